import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import { type Browser, browser } from '../helpers/browser'
import { body, createHarness, type Harness } from '../helpers/harness'

/**
 * RFC 9700 (OAuth 2.0 Security BCP) attacks against the provider, in process: each answers the
 * RFC's error, never a 5xx, and never redirects to a URI the client did not register.
 */

let h: Harness
let base: string
beforeAll(async () => {
  h = await createHarness()
  base = `https://${h.env.host}`
})
afterAll(() => h.close())

const PASSWORD = 'correct horse battery'
const REDIRECT = 'https://app.example.com/cb'
let n = 0

async function person(): Promise<{ b: Browser; user: any }> {
  const email = `attack${++n}+authn_test@example.com`
  const user = await body(await h.bapi('POST', '/v1/users', { email_address: [email], password: PASSWORD }))
  const b = browser(h)
  await b.json('POST', '/v1/client/sign-ins', { identifier: email, password: PASSWORD, strategy: 'password' })
  return { b, user }
}

async function app(extra: Record<string, unknown> = {}) {
  return body(
    await h.bapi('POST', '/v1/oauth-applications', {
      name: 'Victim app',
      redirect_uris: [REDIRECT],
      scopes: 'openid profile email offline_access',
      ...extra,
    }),
  )
}

const authorizeUrl = (params: Record<string, string> | Array<[string, string]>) =>
  `/oauth/authorize?${new URLSearchParams(params).toString()}`

function hidden(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    out[m[1]!] = m[2]!.replaceAll('&amp;', '&').replaceAll('&#39;', "'").replaceAll('&quot;', '"')
  return out
}

const form = (fields: Record<string, string>) => ({
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
})

/** Runs the browser leg to a code (consent: Allow). */
async function codeFor(b: Browser, params: Record<string, string>) {
  let res = await b.call('GET', authorizeUrl(params))
  if (res.status === 200) {
    const f = form({ ...hidden(await res.text()), decision: 'allow' })
    res = await b.call('POST', '/oauth/consent', f.body, f.headers)
    expect(res.status).toBe(303)
  }
  const location = new URL(res.headers.get('location')!)
  return { location, code: location.searchParams.get('code')! }
}

function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  const f = form(fields)
  return h.request(`${base}/oauth/token`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, ...headers },
  })
}
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

describe('RFC 9700 §4.1: open redirection through redirect_uri', () => {
  it('refuses every variant of a registered URI with an error page and no redirect', async () => {
    const a = await app()
    const { b } = await person()
    const variants = [
      'https://app.example.com/c', // prefix
      'https://app.example.com/cbx', // prefix of a longer path
      'https://app.example.com/cb/evil', // path suffix
      'https://app.example.com/cb?x=1', // extra query
      'https://evil@app.example.com/cb', // userinfo
      'https://app.example.com@evil.example/cb', // userinfo the other way round
      'https://app.example.com/cb#frag', // fragment
      'HTTPS://APP.EXAMPLE.COM/cb', // case
      'https://app.example.com:443/cb', // explicit default port
      'https://app.example.com/CB', // path case
      'https://evil.example/cb',
      'http://app.example.com/cb',
    ]
    for (const redirect_uri of variants) {
      const res = await b.call(
        'GET',
        authorizeUrl({
          client_id: a.client_id,
          redirect_uri,
          response_type: 'code',
          scope: 'openid',
          state: 's',
        }),
      )
      expect({ redirect_uri, status: res.status, location: res.headers.get('location') }).toEqual({
        redirect_uri,
        status: 400,
        location: null,
      })
      expect(res.headers.get('content-type')).toStartWith('text/html')
    }
  })

  it('an unknown client, a missing client_id or a repeated redirect_uri is a page, never a redirect', async () => {
    const a = await app()
    for (const params of [
      [
        ['client_id', 'nobody'],
        ['redirect_uri', REDIRECT],
        ['response_type', 'code'],
      ],
      [
        ['redirect_uri', REDIRECT],
        ['response_type', 'code'],
      ],
      [
        ['client_id', a.client_id],
        ['redirect_uri', REDIRECT],
        ['redirect_uri', 'https://evil.example/cb'],
      ],
      [
        ['client_id', a.client_id],
        ['client_id', 'other'],
        ['redirect_uri', REDIRECT],
      ],
    ] as Array<Array<[string, string]>>) {
      const res = await h.request(`${base}${authorizeUrl(params)}`)
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
      expect(await res.text()).toContain('<!doctype html>')
    }
  })

  it('the loopback port relaxation is for public clients only', async () => {
    const confidential = await app({ redirect_uris: ['http://127.0.0.1/cb'] })
    const { b } = await person()
    const res = await b.call(
      'GET',
      authorizeUrl({
        client_id: confidential.client_id,
        redirect_uri: 'http://127.0.0.1:8080/cb',
        response_type: 'code',
      }),
    )
    expect(res.status).toBe(400)
    const pub = await app({ is_public: true, redirect_uris: ['http://127.0.0.1/cb'] })
    // Any port, but the same path; `localhost` is not a loopback IP literal.
    for (const redirect_uri of ['http://127.0.0.1:8080/other', 'http://localhost:8080/cb']) {
      const r = await b.call(
        'GET',
        authorizeUrl({ client_id: pub.client_id, redirect_uri, response_type: 'code' }),
      )
      expect(r.status).toBe(400)
    }
  })
})

describe('errors after the redirect URI is proven go back to it, with state and iss (RFC 9207)', () => {
  const expectError = async (res: Response, error: string, state = 'st') => {
    expect(res.status).toBe(302)
    const cb = new URL(res.headers.get('location')!)
    expect(cb.origin + cb.pathname).toBe(REDIRECT)
    expect(cb.searchParams.get('error')).toBe(error)
    expect(cb.searchParams.get('iss')).toBe(base)
    if (state) expect(cb.searchParams.get('state')).toBe(state)
    expect(cb.searchParams.get('code')).toBeNull()
  }

  it('response_type, scope, PKCE method, duplicate parameters, prompt=none without a session', async () => {
    const a = await app()
    const { b } = await person()
    const ok = {
      client_id: a.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
    }
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, response_type: 'token' })),
      'unsupported_response_type',
    )
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, response_type: 'code id_token' })),
      'unsupported_response_type',
    )
    const { response_type: _, ...noType } = ok
    await expectError(await b.call('GET', authorizeUrl(noType)), 'invalid_request')
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, scope: 'openid private_metadata' })),
      'invalid_scope',
    )
    const { challenge } = pkce()
    // `plain` is refused, and a challenge without its method is taken for plain.
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, code_challenge: challenge, code_challenge_method: 'plain' })),
      'invalid_request',
    )
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, code_challenge: challenge })),
      'invalid_request',
    )
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, code_challenge: 'short', code_challenge_method: 'S256' })),
      'invalid_request',
    )
    await expectError(
      await b.call('GET', authorizeUrl([...Object.entries(ok), ['scope', 'openid email']])),
      'invalid_request',
    )
    await expectError(
      await b.call('GET', authorizeUrl({ ...ok, request: 'eyJ...' })),
      'request_not_supported',
    )
    // prompt=none without a session: login_required, the long state kept byte for byte.
    const longState = 'x'.repeat(128)
    await expectError(
      await h.request(`${base}${authorizeUrl({ ...ok, prompt: 'none', state: longState })}`),
      'login_required',
      longState,
    )
    // prompt=none with a session but no consent yet.
    await expectError(await b.call('GET', authorizeUrl({ ...ok, prompt: 'none' })), 'consent_required')
  })

  it('a public client must use PKCE', async () => {
    const pub = await app({ is_public: true })
    const { b } = await person()
    await expectError(
      await b.call(
        'GET',
        authorizeUrl({
          client_id: pub.client_id,
          redirect_uri: REDIRECT,
          response_type: 'code',
          state: 'st',
        }),
      ),
      'invalid_request',
    )
  })
})

describe('the consent form is CSRF-protected', () => {
  it('refuses a POST without a token or with another session’s token, granting nothing', async () => {
    const a = await app()
    const alice = await person()
    const mallory = await person()
    const params = {
      client_id: a.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
    }
    const page = await alice.b.call('GET', authorizeUrl(params))
    const fields = hidden(await page.text())
    const mallorysPage = await mallory.b.call('GET', authorizeUrl(params))
    const mallorysFields = hidden(await mallorysPage.text())

    const attempts: Array<Record<string, string>> = [
      { authorization_request: fields.authorization_request!, decision: 'allow' },
      { ...fields, csrf_token: mallorysFields.csrf_token!, decision: 'allow' },
      { ...fields, csrf_token: `${fields.csrf_token!.slice(0, -2)}AA`, decision: 'allow' },
      // The token is bound to the exact request: another scope is another request.
      {
        ...fields,
        authorization_request: fields.authorization_request!.replace('openid+email', 'openid+profile'),
        decision: 'allow',
      },
    ]
    for (const attempt of attempts) {
      const f = form(attempt)
      const res = await alice.b.call('POST', '/oauth/consent', f.body, f.headers)
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
    }
    // Without the victim's cookie (a cross-site form post carries none under SameSite=Lax).
    const f = form({ ...fields, decision: 'allow' })
    const anonymous = await h.request(`${base}/oauth/consent`, { method: 'POST', ...f })
    expect(anonymous.status).toBe(400)
    const grants = h.ctx((ctx) =>
      ctx.client.query('SELECT count(*) AS n FROM oauth_grants WHERE user_id = ?').get(alice.user.id),
    ) as {
      n: number
    }
    expect(grants.n).toBe(0)
  })
})

describe('the token endpoint', () => {
  it('code injection: another client, another redirect_uri, a replayed code (which revokes its tokens)', async () => {
    const victim = await app({ redirect_uris: [REDIRECT, 'https://app.example.com/other'] })
    const attacker = await app()
    const { b } = await person()
    const { code } = await codeFor(b, {
      client_id: victim.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid offline_access',
    })
    const stolen = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT },
      { authorization: basic(attacker.client_id, attacker.client_secret) },
    )
    expect(stolen.status).toBe(400)
    expect((await body(stolen)).error).toBe('invalid_grant')
    const auth = { authorization: basic(victim.client_id, victim.client_secret) }
    const otherRedirect = await token(
      { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/other' },
      auth,
    )
    expect((await body(otherRedirect)).error).toBe('invalid_grant')
    const missingRedirect = await token({ grant_type: 'authorization_code', code }, auth)
    expect((await body(missingRedirect)).error).toBe('invalid_grant')

    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, auth)
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('no-store')
    expect(first.headers.get('pragma')).toBe('no-cache')
    const tokens = await body(first)
    const replay = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, auth)
    expect(replay.status).toBe(400)
    expect((await body(replay)).error).toBe('invalid_grant')
    const introspect = async (t: string) => {
      const f = form({ token: t })
      return body(
        await h.request(`${base}/oauth/token_info`, {
          method: 'POST',
          body: f.body,
          headers: { ...f.headers, ...auth },
        }),
      )
    }
    expect(await introspect(tokens.access_token)).toEqual({ active: false })
    expect(await introspect(tokens.refresh_token)).toEqual({ active: false })
  })

  it('PKCE downgrade: a verifier without a challenge, a challenge without a verifier, a wrong verifier', async () => {
    const a = await app()
    const { b } = await person()
    const auth = { authorization: basic(a.client_id, a.client_secret) }
    const plainFlow = {
      client_id: a.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid',
    }
    const noChallenge = await codeFor(b, plainFlow)
    const r1 = await token(
      {
        grant_type: 'authorization_code',
        code: noChallenge.code,
        redirect_uri: REDIRECT,
        code_verifier: pkce().verifier,
      },
      auth,
    )
    expect((await body(r1)).error).toBe('invalid_grant')

    const { verifier, challenge } = pkce()
    const withChallenge = await codeFor(b, {
      ...plainFlow,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })
    const r2 = await token(
      { grant_type: 'authorization_code', code: withChallenge.code, redirect_uri: REDIRECT },
      auth,
    )
    expect((await body(r2)).error).toBe('invalid_grant')
    const r3 = await token(
      {
        grant_type: 'authorization_code',
        code: withChallenge.code,
        redirect_uri: REDIRECT,
        code_verifier: pkce().verifier,
      },
      auth,
    )
    expect((await body(r3)).error).toBe('invalid_grant')
    const r4 = await token(
      {
        grant_type: 'authorization_code',
        code: withChallenge.code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      },
      auth,
    )
    expect(r4.status).toBe(200)
  })

  it('client authentication: one method only, url-decoded Basic halves, 401 with a challenge', async () => {
    const a = await app()
    const both = await token(
      {
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: a.client_id,
        client_secret: a.client_secret,
      },
      { authorization: basic(a.client_id, a.client_secret) },
    )
    expect(both.status).toBe(400)
    expect((await body(both)).error).toBe('invalid_request')

    const wrong = await token(
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic(a.client_id, 'nope') },
    )
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toStartWith('Basic ')
    expect((await body(wrong)).error).toBe('invalid_client')
    const post = await token({
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: a.client_id,
      client_secret: 'nope',
    })
    expect(post.status).toBe(401)
    expect(post.headers.get('www-authenticate')).toBeNull()

    // Halves are form-url-encoded: an encoded id still authenticates (the refresh token is what fails).
    const encoded = `Basic ${Buffer.from(`${encodeURIComponent(a.client_id).replaceAll('-', '%2D')}:${a.client_secret}`).toString('base64')}`
    const ok = await token(
      { grant_type: 'refresh_token', refresh_token: 'ort_unknown' },
      { authorization: encoded },
    )
    expect((await body(ok)).error).toBe('invalid_grant')

    // A public client may not present a secret; a confidential one may not skip it.
    const pub = await app({ is_public: true })
    const pubSecret = await token({
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: pub.client_id,
      client_secret: 's',
    })
    expect(pubSecret.status).toBe(401)
    const noSecret = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: a.client_id })
    expect(noSecret.status).toBe(401)
  })

  it('bad bodies are RFC 6749 400s, never a 5xx', async () => {
    const a = await app()
    const auth = { authorization: basic(a.client_id, a.client_secret) }
    const json = await h.request(`${base}/oauth/token`, {
      method: 'POST',
      body: JSON.stringify({ grant_type: 'authorization_code' }),
      headers: { 'content-type': 'application/json', ...auth },
    })
    expect(json.status).toBe(400)
    expect((await body(json)).error).toBe('invalid_request')
    const cases: Array<[Record<string, string> | string, string]> = [
      [{ grant_type: 'password', username: 'a', password: 'b' }, 'unsupported_grant_type'],
      [{ grant_type: 'client_credentials' }, 'unsupported_grant_type'],
      [{}, 'invalid_request'],
      [{ grant_type: 'authorization_code' }, 'invalid_request'],
      [{ grant_type: 'authorization_code', code: 'x'.repeat(5000) }, 'invalid_grant'],
      ['grant_type=authorization_code&code=a&code=b', 'invalid_request'],
      ['%%%', 'invalid_request'],
    ]
    for (const [fields, error] of cases) {
      const res = await h.request(`${base}/oauth/token`, {
        method: 'POST',
        body: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      })
      expect({ fields, status: res.status, error: (await body(res)).error }).toEqual({
        fields,
        status: 400,
        error,
      })
    }
    for (const path of ['/oauth/userinfo', '/oauth/token_info', '/oauth/revoke']) {
      const res = await h.request(`${base}${path}`, {
        method: 'POST',
        body: 'token=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(res.status).toBeLessThan(500)
      expect(res.status).toBeGreaterThanOrEqual(400)
    }
    const userinfo = await h.request(`${base}/oauth/userinfo`, {
      headers: { authorization: 'Bearer not.a.jwt' },
    })
    expect(userinfo.status).toBe(401)
    expect(userinfo.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })
})
