import { describe, expect, it } from 'bun:test'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { type Browser, browser, type recordingDelivery } from '../helpers/browser'
import { body, type Harness } from '../helpers/harness'
import {
  createUser,
  emailOf,
  expectError,
  freshHarnesses,
  ok,
  patchInstance,
  pathOf,
  row,
  signedIn,
} from './support'

const REDIRECT = 'http://localhost:5173/sso-callback?from=email'
const harness = freshHarnesses()

/** A harness whose env signs in by email link too. */
async function fresh() {
  const made = await harness()
  await patchInstance(made.h, { first_factors: ['password', 'email_code', 'email_link'] })
  return made
}

/** Starts an email-link sign-in on `b`; answers the sign-in, its challenge and the emailed link. */
async function linkSignIn(h: Harness, delivery: ReturnType<typeof recordingDelivery>, b: Browser) {
  const user = await createUser(h)
  const created = ok(
    await b.json('POST', '/v1/client/sign-ins', {
      identifier: emailOf(user),
      strategy: 'email_link',
      redirect_url: REDIRECT,
    }),
  )
  const sia = created.response
  const challenge = sia.first_factor_verification
  expect(challenge).toMatchObject({ strategy: 'email_link', status: 'unverified' })
  await h.settle()
  return { user, sia, challenge, link: delivery.lastLink(emailOf(user)) }
}

const follow = async (b: Browser, link: string) => {
  const res = await b.call('GET', pathOf(link))
  const location = res.headers.get('location')
  return { res, status: res.status, to: location ? new URL(location) : null }
}

describe('email link sign-in', () => {
  it('needs an allowed redirect_url', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), strategy: 'email_link' }),
      422,
      'form_param_missing',
      'redirect_url',
    )
    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        strategy: 'email_link',
        redirect_url: 'https://evil.example.com/steal',
      }),
      422,
      'invalid_redirect_url',
      'redirect_url',
    )
    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        strategy: 'email_link',
        redirect_url: 'javascript:alert(1)',
      }),
      422,
      'invalid_redirect_url',
      'redirect_url',
    )
    // issuing through the challenges route checks the same
    const sia = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) })).response
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges`, {
        strategy: 'email_link',
        redirect_url: 'https://evil.example.com/',
      }),
      422,
      'invalid_redirect_url',
      'redirect_url',
    )
    const c = ok(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges`, {
        strategy: 'email_link',
        redirect_url: REDIRECT,
      }),
    ).response
    expect(c.strategy).toBe('email_link')
    // a link is not answered with a code
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}/answer`, { code: '123456' }),
      400,
      'verification_strategy_invalid',
    )
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}/answer`, {}),
      400,
      'client_state_invalid',
    )
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_first_factor',
    )
  })

  it('same device: the link redirects (303) to redirect_url, verified, and sets a new cookie', async () => {
    const { h, delivery } = await fresh()
    const b = browser(h)
    const { sia, link } = await linkSignIn(h, delivery, b)
    expect(link).toStartWith(`https://${h.env.host}/v1/client/handshake?__authn_ticket=`)
    const before = b.cookie
    const { status, to, res } = await follow(b, link)
    expect(status).toBe(303)
    expect(`${to!.origin}${to!.pathname}`).toBe('http://localhost:5173/sso-callback')
    expect(to!.searchParams.get('from')).toBe('email')
    expect(to!.searchParams.get('__authn_status')).toBe('verified')
    const sid = to!.searchParams.get('__authn_created_session')!
    expect(sid).toMatch(/^sess_/)
    expect(res.headers.get('set-cookie')).toContain('__authn_client=')
    expect(b.cookie).not.toBe(before)

    const client = ok(await b.json('GET', '/v1/client')).response
    expect(client.last_active_session_id).toBe(sid)
    expect(client.sign_in).toMatchObject({ id: sia.id, status: 'complete', created_session_id: sid })
    expect(client.last_authentication_strategy).toBe('email_link')
    ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))

    // opening it again creates nothing more
    const sessions = row<{ n: number }>(h, 'SELECT count(*) AS n FROM sessions').n
    const again = await follow(b, link)
    expect(again.status).toBe(303)
    expect(again.to!.searchParams.get('__authn_created_session')).toBeNull()
    expect(row<{ n: number }>(h, 'SELECT count(*) AS n FROM sessions').n).toBe(sessions)
  })

  it('cross-device: another browser opens it; the originating client polls and sees complete', async () => {
    const { h, delivery } = await fresh()
    const tab = browser(h)
    const { sia, challenge, link } = await linkSignIn(h, delivery, tab)
    const phone = browser(h)
    const { status, to } = await follow(phone, link)
    expect(status).toBe(303)
    expect(to!.searchParams.get('__authn_status')).toBe('verified')
    const sid = to!.searchParams.get('__authn_created_session')!
    expect(sid).toMatch(/^sess_/)
    // the other device got no session of its own
    expect(ok(await phone.json('GET', '/v1/client')).response?.sessions ?? []).toEqual([])

    const polled = ok(await tab.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${challenge.id}`))
    expect(polled.response.status).toBe('verified')
    const client = ok(await tab.json('GET', '/v1/client')).response
    expect(client.sign_in.status).toBe('complete')
    expect(client.last_active_session_id).toBe(sid)
    expect(client.sessions.map((s: any) => [s.id, s.status])).toEqual([[sid, 'active']])
    ok(await tab.json('POST', `/v1/client/sessions/${sid}/tokens`))
  })

  it('the originating tab may answer an opened email_link challenge with an empty body (seed)', async () => {
    const { h, delivery } = await fresh()
    const tab = browser(h)
    const { sia, challenge, link } = await linkSignIn(h, delivery, tab)
    await follow(browser(h), link)
    const answered = ok(
      await tab.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/${challenge.id}/answer`, {}),
    )
    expect(answered.response).toMatchObject({ id: sia.id, status: 'complete' })
  })

  it('with email_link_require_same_client, another browser gets client_mismatch and nothing completes', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, { email_link_require_same_client: true })
    const tab = browser(h)
    const { sia, challenge, link } = await linkSignIn(h, delivery, tab)
    const other = browser(h)
    const { status, to } = await follow(other, link)
    expect(status).toBe(303)
    expect(to!.searchParams.get('__authn_status')).toBe('client_mismatch')
    expect(to!.searchParams.get('__authn_created_session')).toBeNull()
    expect(
      ok(await tab.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${challenge.id}`)).response.status,
    ).toBe('unverified')
    const client = ok(await tab.json('GET', '/v1/client')).response
    expect(client.sign_in.status).toBe('needs_first_factor')
    expect(client.sessions).toEqual([])

    // the right browser still can
    const mine = await follow(tab, link)
    expect(mine.to!.searchParams.get('__authn_status')).toBe('verified')
    expect(mine.to!.searchParams.get('__authn_created_session')).toMatch(/^sess_/)
  })

  it('an expired link redirects with __authn_status=expired and completes nothing', async () => {
    const { h, delivery } = await fresh()
    const tab = browser(h)
    const { sia, link } = await linkSignIn(h, delivery, tab)
    h.clock.advance(10 * 60_000)
    const { status, to } = await follow(tab, link)
    expect(status).toBe(303)
    expect(to!.searchParams.get('__authn_status')).toBe('expired')
    expect(to!.searchParams.get('__authn_created_session')).toBeNull()
    expect(ok(await tab.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_first_factor',
    )
    expect(ok(await tab.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('a bogus link is 400 verification_link_token_invalid', async () => {
    const { h } = await fresh()
    const res = await browser(h).json('GET', '/v1/client/handshake?__authn_ticket=not-a-real-token')
    expectError(res, 400, 'verification_link_token_invalid')
  })
})

describe('handshake (cookie sync for server-rendered apps)', () => {
  async function jwks(h: Harness) {
    return createLocalJWKSet(await body(await h.request(`https://${h.env.host}/.well-known/jwks.json`)))
  }
  async function handshakeOf(h: Harness, b: Browser, redirect: string) {
    const res = await b.call('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent(redirect)}`)
    expect(res.status).toBe(307)
    const to = new URL(res.headers.get('location')!)
    const token = to.searchParams.get('__authn_handshake')!
    expect(token).toBeString()
    const { payload } = await jwtVerify(token, await jwks(h), {
      currentDate: new Date(h.clock.now()),
      issuer: `https://${h.env.host}`,
    })
    return { to, directives: payload.handshake as string[] }
  }

  it('signed in: a signed payload whose directives set a valid session token', async () => {
    const { h } = await fresh()
    const { b, sid, user } = await signedIn(h)
    const { to, directives } = await handshakeOf(h, b, 'http://localhost:3000/dashboard?tab=2')
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/dashboard')
    expect(to.searchParams.get('tab')).toBe('2')
    expect(Array.isArray(directives)).toBe(true)
    const session = directives.find((d) => d.startsWith('__authn_session='))!
    const jwt = session.slice('__authn_session='.length).split(';')[0]!
    const { payload } = await jwtVerify(jwt, await jwks(h), { currentDate: new Date(h.clock.now()) })
    expect(payload).toMatchObject({ sid, sub: user.id, azp: 'http://localhost:3000', v: 2 })
    const uat = directives.find((d) => d.startsWith('__authn_client_uat='))!
    expect(uat).toStartWith(`__authn_client_uat=${Math.floor(h.clock.now() / 1000)};`)
  })

  it('signed out (no client, or an ended session): clearing directives', async () => {
    const { h } = await fresh()
    const nobody = await handshakeOf(h, browser(h), 'http://localhost:3000/')
    const clear = (ds: string[]) => {
      expect(ds.find((d) => d.startsWith('__authn_session='))).toMatch(/^__authn_session=;.*Max-Age=0/)
      expect(ds.find((d) => d.startsWith('__authn_client_uat='))).toStartWith('__authn_client_uat=0;')
    }
    clear(nobody.directives)
    const { b, sid } = await signedIn(h)
    ok(await b.json('POST', `/v1/client/sessions/${sid}/end`))
    clear((await handshakeOf(h, b, 'http://localhost:3000/')).directives)
    expect(decodeJwt(nobody.to.searchParams.get('__authn_handshake')!).exp).toBeNumber()
  })

  it('refuses a redirect_url that is not allowed (422) or missing', async () => {
    const { h } = await fresh()
    await patchInstance(h, { redirect_urls: ['https://app.example.com/cb'] })
    const { b } = await signedIn(h)
    const hs = (u: string) => b.json('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent(u)}`)
    expectError(await hs('https://evil.example.com/'), 422, 'invalid_redirect_url', 'redirect_url')
    expectError(await hs('https://app.example.com/cbevil'), 422, 'invalid_redirect_url', 'redirect_url')
    expectError(await hs('javascript:alert(document.cookie)'), 422, 'invalid_redirect_url', 'redirect_url')
    expectError(await hs('not a url'), 422, 'invalid_redirect_url', 'redirect_url')
    expectError(await b.json('GET', '/v1/client/handshake'), 422, 'form_param_missing', 'redirect_url')
    expect(
      (
        await b.call(
          'GET',
          `/v1/client/handshake?redirect_url=${encodeURIComponent('https://app.example.com/cb/next')}`,
        )
      ).status,
    ).toBe(307)
  })
})
