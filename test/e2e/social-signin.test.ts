import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import * as jose from 'jose'
import { overridePresetForTests } from '../../src/domain/oauth-providers/presets'
import { bapiJson, createUser, expectError, ok, PASSWORD } from '../flows/support'
import { type Browser, browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { type Idp, startIdp } from '../helpers/oidc-idp'

/**
 * Social sign-in end to end against a real upstream IdP: node-oidc-provider on loopback, as a
 * custom_oidc provider (discovery), behind the Google preset with its endpoints pointed at it
 * (the test-only override), and as a plain OAuth 2.0 server for custom_oauth2 (userinfo mapping).
 * The browser leg (authorize → login → consent → our callback) is driven with fetch.
 */

let h: Harness
let idp: Idp
let other: Idp
/** A token endpoint gone bad: forwards to the IdP, then re-signs the id_token for another audience. */
let mixup: ReturnType<typeof Bun.serve>
/**
 * Apple's token endpoint as far as the client secret goes: a minted client-secret JWT is checked
 * with jose against the .p8 key's public half (refused with invalid_client otherwise), then the
 * request goes on to the IdP with the client's real secret.
 */
let appleToken: ReturnType<typeof Bun.serve>
const appleKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const appleJwts: Array<{ header: jose.ProtectedHeaderParameters; claims: jose.JWTPayload }> = []
const APP = 'http://localhost:5173/sso-callback'
const restore: Array<() => void> = []
let host: string

const callbackBase = () => `https://${host}/v1/oauth-callback/`

beforeAll(async () => {
  h = await createHarness()
  host = h.env.host
  const redirect = (key: string) => [`https://${host}/v1/oauth-callback/${key}`]
  idp = await startIdp({
    clients: [
      {
        client_id: 'authn-oidc',
        client_secret: 'oidc-secret-0123456789',
        redirect_uris: redirect('custom_idp'),
      },
      {
        client_id: 'authn-google',
        client_secret: 'google-secret-0123456789',
        redirect_uris: redirect('google'),
      },
      {
        client_id: 'authn-plain',
        client_secret: 'plain-secret-0123456789',
        redirect_uris: redirect('custom_plain'),
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'authn-forged',
        client_secret: 'forged-secret-0123456789',
        redirect_uris: redirect('gitlab'),
      },
      {
        client_id: 'authn-mixup',
        client_secret: 'mixup-secret-0123456789',
        redirect_uris: redirect('slack'),
      },
      {
        client_id: 'authn-apple',
        client_secret: 'apple-secret-0123456789',
        redirect_uris: [...redirect('apple'), ...redirect('apple_signed')],
      },
    ],
    accounts: {
      alice: {
        email: 'alice@social.test',
        email_verified: true,
        given_name: 'Alice',
        family_name: 'Liddell',
      },
      dave: { email: 'dave@social.test', email_verified: true, name: 'Dave Bowman' },
      mallory: { email: 'victim@social.test', email_verified: false, name: 'Mallory' },
      carol: { name: 'Carol NoEmail' },
      plain: { email: 'plain@social.test', email_verified: true, preferred_username: 'plainuser' },
      erin: { email: 'erin@social.test', email_verified: true, name: 'Erin' },
      frank: { email: 'frank@social.test', email_verified: true, name: 'Frank' },
      gina: { email: 'gina@social.test', email_verified: true, given_name: 'Gina', family_name: 'Up' },
      hank: { email: 'hank@social.test', email_verified: true, given_name: 'Hank', family_name: 'Twice' },
      ivy: { email: 'ivy@social.test', email_verified: true, given_name: 'Ivy' },
    },
  })
  // A second IdP: its keys are not the first one's.
  other = await startIdp({ clients: [], accounts: { x: {} } })
  mixup = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const upstream = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: req.headers,
        body: await req.text(),
      })
      const body = (await upstream.json()) as Record<string, unknown>
      if (typeof body.id_token === 'string') {
        const claims = jose.decodeJwt(body.id_token)
        body.id_token = await new jose.SignJWT({ ...claims, aud: 'someone-else' })
          .setProtectedHeader({ alg: 'RS256', kid: 'idp-test' })
          .sign(idp.signingKey)
      }
      return Response.json(body, { status: upstream.status })
    },
  })
  appleToken = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const form = new URLSearchParams(await req.text())
      const secret = form.get('client_secret') ?? ''
      if (secret.split('.').length === 3) {
        try {
          const { payload, protectedHeader } = await jose.jwtVerify(secret, appleKeys.publicKey, {
            issuer: 'TEAM123456',
            subject: form.get('client_id') ?? '',
            audience: 'https://appleid.apple.com',
            algorithms: ['ES256'],
            // Our server runs on the harness's fixed clock.
            currentDate: new Date(h.clock.now()),
          })
          appleJwts.push({ header: protectedHeader, claims: payload })
        } catch {
          return Response.json({ error: 'invalid_client' }, { status: 401 })
        }
        form.set('client_secret', 'apple-secret-0123456789')
      }
      const upstream = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      })
      return new Response(await upstream.text(), {
        status: upstream.status,
        headers: { 'content-type': 'application/json' },
      })
    },
  })
  restore.push(
    overridePresetForTests('slack', {
      issuer: idp.issuer,
      authorizationUrl: `${idp.issuer}/auth`,
      tokenUrl: `http://127.0.0.1:${mixup.port}/token`,
      userinfoUrl: `${idp.issuer}/me`,
      jwksUrl: `${idp.issuer}/jwks`,
    }),
    // Apple's shape: form_post, no userinfo; its scopes are the IdP's.
    overridePresetForTests('apple', {
      issuer: idp.issuer,
      authorizationUrl: `${idp.issuer}/auth`,
      tokenUrl: `http://127.0.0.1:${appleToken.port}/token`,
      jwksUrl: `${idp.issuer}/jwks`,
      scopes: ['openid', 'email'],
    }),
    overridePresetForTests('google', {
      issuer: idp.issuer,
      authorizationUrl: `${idp.issuer}/auth`,
      tokenUrl: `${idp.issuer}/token`,
      userinfoUrl: `${idp.issuer}/me`,
      jwksUrl: `${idp.issuer}/jwks`,
      revocationUrl: `${idp.issuer}/token/revocation`,
      authParams: {},
    }),
    // GitLab "signed" by the other IdP's keys: every id_token fails its signature check.
    overridePresetForTests('gitlab', {
      issuer: idp.issuer,
      authorizationUrl: `${idp.issuer}/auth`,
      tokenUrl: `${idp.issuer}/token`,
      userinfoUrl: `${idp.issuer}/me`,
      jwksUrl: `${other.issuer}/jwks`,
    }),
  )
  const create = async (body: Record<string, unknown>) =>
    ok(await bapiJson(h, 'POST', '/v1/oauth-providers', body))
  await create({
    provider_kind: 'custom_oidc',
    provider_key: 'custom_idp',
    client_id: 'authn-oidc',
    client_secret: 'oidc-secret-0123456789',
    discovery_url: idp.issuer,
  })
  await create({
    provider_kind: 'preset',
    preset: 'google',
    client_id: 'authn-google',
    client_secret: 'google-secret-0123456789',
  })
  await create({
    provider_kind: 'preset',
    preset: 'gitlab',
    client_id: 'authn-forged',
    client_secret: 'forged-secret-0123456789',
  })
  await create({
    provider_kind: 'preset',
    preset: 'apple',
    client_id: 'authn-apple',
    client_secret: 'apple-secret-0123456789',
  })
  await create({
    provider_kind: 'preset',
    preset: 'slack',
    client_id: 'authn-mixup',
    client_secret: 'mixup-secret-0123456789',
  })
  await create({
    provider_kind: 'custom_oauth2',
    provider_key: 'custom_plain',
    client_id: 'authn-plain',
    client_secret: 'plain-secret-0123456789',
    authorization_url: `${idp.issuer}/auth`,
    token_url: `${idp.issuer}/token`,
    userinfo_url: `${idp.issuer}/me`,
    token_endpoint_auth_method: 'client_secret_post',
    scopes: ['openid', 'email', 'profile'],
    attribute_mapping: {
      user_id: 'sub',
      email: 'email',
      email_verified: 'email_verified',
      username: 'preferred_username',
    },
  })
})

afterAll(async () => {
  for (const r of restore) r()
  await mixup.stop(true)
  await appleToken.stop(true)
  await idp.close()
  await other.close()
  h.close()
})

/** Starts a social sign-in in `b` and follows the IdP as `account`; the callback URL. */
async function toCallback(b: Browser, strategy: string, account: string, tamper?: (u: URL) => void) {
  idp.state.nextAccount = account
  const created = ok(await b.json('POST', '/v1/client/sign-ins', { strategy, redirect_url: APP }))
  const v = created.response.first_factor_verification
  expect(v).toMatchObject({ strategy, status: 'unverified' })
  const url = new URL(v.external_verification_redirect_url)
  tamper?.(url)
  const cb = await idp.authorize(url.toString(), callbackBase())
  return { signIn: created.response, cb }
}

/** Hands the callback to our server in browser `b`; where it sends the browser. */
async function land(b: Browser, cb: URL) {
  const res = await b.call('GET', cb.pathname + cb.search)
  expect(res.status).toBe(303)
  return new URL(res.headers.get('location')!)
}

async function social(b: Browser, strategy: string, account: string) {
  const { signIn, cb } = await toCallback(b, strategy, account)
  return { signIn, back: await land(b, cb) }
}

describe('social sign-in with a real IdP', () => {
  it('offers enabled providers in the environment and as first factors', async () => {
    const env = ok(
      await h
        .fapi('GET', '/v1/environment')
        .then(async (r) => ({ status: r.status, body: await r.json(), res: r })),
    )
    expect(Object.keys(env.auth_config.social)).toEqual(
      expect.arrayContaining(['oauth_custom_idp', 'oauth_google', 'oauth_custom_plain']),
    )
    expect(env.auth_config.social.oauth_google).toMatchObject({ strategy: 'oauth_google', name: 'Google' })
  })

  it('custom_oidc: a new identity is transferable; the sign-up takes it over; the next sign-in signs in', async () => {
    const b = browser(h)
    const { signIn, back } = await social(b, 'oauth_custom_idp', 'alice')
    expect(back.origin + back.pathname).toBe(APP)
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const after = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(after.response.first_factor_verification.status).toBe('transferable')

    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true, password: PASSWORD }))
    expect(up.response).toMatchObject({
      status: 'complete',
      email_address: 'alice@social.test',
      first_name: 'Alice',
      last_name: 'Liddell',
    })
    const userId = up.response.created_user_id
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user.email_addresses[0].verification).toEqual({ status: 'verified', strategy: 'oauth_custom_idp' })

    // Again, in a fresh browser: the external account signs in, no password involved.
    const again = browser(h)
    const second = await social(again, 'oauth_custom_idp', 'alice')
    expect(second.back.searchParams.get('__authn_status')).toBe('verified')
    const sid = second.back.searchParams.get('__authn_created_session')!
    expect(sid).toMatch(/^sess_/)
    const client = ok(await again.json('GET', '/v1/client'))
    expect(client.response.sessions.map((s: any) => s.user.id)).toEqual([userId])
    const token = ok(await again.json('POST', `/v1/client/sessions/${sid}/tokens`))
    expect(token.jwt).toBeString()
  })

  it('links to an existing user by a verified email the provider asserts verified (Google preset on the IdP)', async () => {
    const dave = await createUser(h, { email_address: ['dave@social.test'] })
    const b = browser(h)
    const { back } = await social(b, 'oauth_google', 'dave')
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const client = ok(await b.json('GET', '/v1/client'))
    expect(client.response.sessions[0].user.id).toBe(dave.id)
    const count = h.ctx(
      (ctx) =>
        ctx.client
          .query('select count(*) as n from external_accounts where user_id = ? and provider = ?')
          .get(dave.id, 'google') as { n: number },
    )
    expect(count.n).toBe(1)
  })

  it('never links an unverified provider email to the user who has it', async () => {
    const victim = await createUser(h, { email_address: ['victim@social.test'] })
    const b = browser(h)
    const { signIn, back } = await social(b, 'oauth_custom_idp', 'mallory')
    expect(back.searchParams.get('__authn_status')).toBe('failed')
    expect(back.searchParams.get('error')).toBe('external_account_link_refused')
    const after = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(after.client.sessions).toEqual([])
    expect(after.response.status).not.toBe('complete')
    const linked = h.ctx(
      (ctx) =>
        ctx.client.query('select count(*) as n from external_accounts where user_id = ?').get(victim.id) as {
          n: number
        },
    )
    expect(linked.n).toBe(0)
    expectError(await b.json('POST', '/v1/client/sign-ups', { transfer: true }), 400, 'client_state_invalid')
  })

  it('a profile without an email is transferable; the sign-up asks for one', async () => {
    const b = browser(h)
    const { back } = await social(b, 'oauth_custom_idp', 'carol')
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true }))
    expect(up.response.status).toBe('missing_requirements')
    expect(up.response.first_name).toBe('Carol')
    expect(up.response.missing_fields).toContain('email_address')
  })

  it('custom_oauth2 maps the userinfo JSON by dot paths', async () => {
    const b = browser(h)
    const { back } = await social(b, 'oauth_custom_plain', 'plain')
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true, password: PASSWORD }))
    expect(up.response).toMatchObject({ status: 'complete', email_address: 'plain@social.test' })
  })
})

/** Starts a sign-up with `strategy` in `b`, follows the IdP as `account` and lands; the sign-up and where it ends. */
async function socialSignUp(b: Browser, strategy: string, account: string) {
  idp.state.nextAccount = account
  const created = ok(await b.json('POST', '/v1/client/sign-ups', { strategy, redirect_url: APP }))
  const v = created.response.verifications.external_account
  expect(v).toMatchObject({ strategy, status: 'unverified' })
  const cb = await idp.authorize(v.external_verification_redirect_url, callbackBase())
  return { signUp: created.response, back: await land(b, cb) }
}

describe('sign-up started with a social strategy (Clerk: signUp.create({ strategy: "oauth_…" }))', () => {
  it('a new identity completes the sign-up with the provider profile', async () => {
    const b = browser(h)
    const { signUp, back } = await socialSignUp(b, 'oauth_custom_idp', 'gina')
    expect(back.origin + back.pathname).toBe(APP)
    let up = ok(await b.json('GET', `/v1/client/sign-ups/${signUp.id}`)).response
    expect(up).toMatchObject({ email_address: 'gina@social.test', first_name: 'Gina', last_name: 'Up' })
    expect(up.verifications.email_address.status).toBe('verified')
    expect(up.verifications.external_account.status).toBe('verified')
    if (up.status === 'missing_requirements') {
      // The env may still require a password; the provider answered everything else.
      expect(up.missing_fields).toEqual(['password'])
      expect(back.searchParams.get('__authn_status')).toBe('missing_requirements')
      up = ok(await b.json('PATCH', `/v1/client/sign-ups/${signUp.id}`, { password: PASSWORD })).response
    } else expect(back.searchParams.get('__authn_status')).toBe('verified')
    expect(up.status).toBe('complete')
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${up.created_user_id}`))
    expect(user.email_addresses[0].verification).toEqual({ status: 'verified', strategy: 'oauth_custom_idp' })
    expect(user.external_accounts.map((a: any) => a.provider_user_id)).toEqual(['gina'])
  })

  it('an existing external account makes the sign-up transferable; a sign-in with transfer signs in', async () => {
    const first = browser(h)
    const { signUp } = await socialSignUp(first, 'oauth_custom_idp', 'hank')
    let up = ok(await first.json('GET', `/v1/client/sign-ups/${signUp.id}`)).response
    if (up.status !== 'complete')
      up = ok(await first.json('PATCH', `/v1/client/sign-ups/${signUp.id}`, { password: PASSWORD })).response
    const userId = up.created_user_id
    expect(userId).toMatch(/^user_/)

    const b = browser(h)
    const again = await socialSignUp(b, 'oauth_custom_idp', 'hank')
    expect(again.back.searchParams.get('__authn_status')).toBe('transferable')
    const pending = ok(await b.json('GET', `/v1/client/sign-ups/${again.signUp.id}`)).response
    expect(pending.status).toBe('missing_requirements')
    expect(pending.verifications.external_account.status).toBe('transferable')
    const signIn = ok(await b.json('POST', '/v1/client/sign-ins', { transfer: true }))
    expect(signIn.response.status).toBe('complete')
    expect(signIn.response.first_factor_verification).toMatchObject({
      strategy: 'oauth_custom_idp',
      status: 'verified',
    })
    const client = ok(await b.json('GET', '/v1/client'))
    expect(client.response.sessions.map((s: any) => s.user.id)).toEqual([userId])
    // The proof is used up.
    expectError(await b.json('POST', '/v1/client/sign-ins', { transfer: true }), 400, 'client_state_invalid')
  })

  it('a verified provider email of an existing user links it; the sign-up transfers to a sign-in', async () => {
    const ivy = await createUser(h, { email_address: ['ivy@social.test'] })
    const b = browser(h)
    const { back } = await socialSignUp(b, 'oauth_google', 'ivy')
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const signIn = ok(await b.json('POST', '/v1/client/sign-ins', { transfer: true }))
    expect(signIn.response.status).toBe('complete')
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${ivy.id}`))
    expect(user.external_accounts.map((a: any) => a.provider)).toEqual(['google'])
  })

  it('bad input: an unknown strategy, no redirect_url, a foreign redirect_url, nothing to transfer', async () => {
    const b = browser(h)
    const bad = await b.json('POST', '/v1/client/sign-ups', { strategy: 'oauth_nope', redirect_url: APP })
    expect(bad.status).toBe(422)
    const none = await b.json('POST', '/v1/client/sign-ups', { strategy: 'oauth_custom_idp' })
    expect(none.status).toBeGreaterThanOrEqual(400)
    expect(none.status).toBeLessThan(500)
    const foreign = await b.json('POST', '/v1/client/sign-ups', {
      strategy: 'oauth_custom_idp',
      redirect_url: 'https://evil.example/cb',
    })
    expect(foreign.status).toBeGreaterThanOrEqual(400)
    expect(foreign.status).toBeLessThan(500)
    expectError(await b.json('POST', '/v1/client/sign-ins', { transfer: true }), 400, 'client_state_invalid')
  })
})

describe("Apple's form_post", () => {
  it('a cross-site form POST to the callback goes on to the GET, which has the client cookie', async () => {
    const b = browser(h)
    idp.state.nextAccount = 'alice'
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_apple', redirect_url: APP }),
    )
    const url = created.response.first_factor_verification.external_verification_redirect_url
    expect(new URL(url).searchParams.get('response_mode')).toBe('form_post')
    const { action, fields } = await idp.authorizeForm(url, callbackBase())
    expect(action).toBe(`${callbackBase()}apple`)
    fields.set('user', JSON.stringify({ name: { firstName: 'Alice', lastName: 'Apple' } }))
    // The browser posts from the IdP's origin, without our SameSite=Lax cookie.
    const posted = await h.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.issuer },
      body: fields.toString(),
      redirect: 'manual',
    })
    expect(posted.status).toBe(303)
    expect(posted.headers.get('set-cookie')).toBeNull()
    const next = new URL(posted.headers.get('location')!)
    expect(next.pathname).toBe('/v1/oauth-callback/apple')
    expect(next.searchParams.get('state')).toBe(fields.get('state'))
    const back = await land(b, next)
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true }))
    // The name came once, in the form's `user` field.
    expect(up.response).toMatchObject({ first_name: 'Alice', last_name: 'Apple' })
  })
})

describe("Apple's client secret minted from the .p8 key", () => {
  it('the token endpoint receives an ES256 JWT (iss team id, sub client id, aud Apple) that verifies', async () => {
    ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'apple',
        provider_key: 'apple_signed',
        client_id: 'authn-apple',
        team_id: 'TEAM123456',
        key_id: 'KEYID12345',
        private_key: appleKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
    )
    const b = browser(h)
    idp.state.nextAccount = 'dave'
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_apple_signed', redirect_url: APP }),
    )
    const url = created.response.first_factor_verification.external_verification_redirect_url
    const { action, fields } = await idp.authorizeForm(url, callbackBase())
    const posted = await h.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.issuer },
      body: fields.toString(),
      redirect: 'manual',
    })
    const before = appleJwts.length
    const back = await land(b, new URL(posted.headers.get('location')!))
    expect(back.searchParams.get('error')).toBeNull()
    expect(['transferable', 'verified']).toContain(back.searchParams.get('__authn_status')!)
    expect(appleJwts.length).toBe(before + 1)
    const { header, claims } = appleJwts.at(-1)!
    expect(header).toMatchObject({ alg: 'ES256', kid: 'KEYID12345' })
    expect(claims).toMatchObject({ iss: 'TEAM123456', sub: 'authn-apple', aud: 'https://appleid.apple.com' })
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(182 * 24 * 3600)

    // Signed with another key: the token endpoint refuses the client; the app is told.
    const provider = ok(await bapiJson(h, 'GET', '/v1/oauth-providers?limit=100')).data.find(
      (p: any) => p.provider_key === 'apple_signed',
    )
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    ok(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${provider.id}`, {
        private_key: stranger.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
    )
    const c = browser(h)
    const again = ok(
      await c.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_apple_signed', redirect_url: APP }),
    )
    const form = await idp.authorizeForm(
      again.response.first_factor_verification.external_verification_redirect_url,
      callbackBase(),
    )
    const post = await h.request(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.issuer },
      body: form.fields.toString(),
      redirect: 'manual',
    })
    const refused = await land(c, new URL(post.headers.get('location')!))
    expect(refused.searchParams.get('__authn_status')).toBe('failed')
    expect(refused.searchParams.get('error')).toBe('external_token_exchange_failed')
  })
})

describe('attacks and bad input on the callback', () => {
  it('a replayed state and a state of another provider are refused with an HTML page', async () => {
    const b = browser(h)
    const { cb } = await toCallback(b, 'oauth_custom_idp', 'alice')
    // Another provider's callback path with this state: refused, nothing used up.
    const foreign = await b.call('GET', `/v1/oauth-callback/google${cb.search}`)
    expect(foreign.status).toBe(400)
    expect(foreign.headers.get('content-type')).toContain('text/html')
    expect(await foreign.text()).not.toContain('Error:')
    expect((await land(b, cb)).searchParams.get('__authn_status')).toBe('verified')
    const replay = await b.call('GET', cb.pathname + cb.search)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('invalid or was already used')
    const unknown = await b.call('GET', '/v1/oauth-callback/custom_idp?state=nope&code=x')
    expect(unknown.status).toBe(400)
  })

  it('error=access_denied goes back to the app as ?error=', async () => {
    const b = browser(h)
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_custom_idp', redirect_url: APP }),
    )
    const state = new URL(
      created.response.first_factor_verification.external_verification_redirect_url,
    ).searchParams.get('state')!
    const back = await land(
      b,
      new URL(
        `${callbackBase()}custom_idp?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
      ),
    )
    expect(back.origin + back.pathname).toBe(APP)
    expect(back.searchParams.get('__authn_status')).toBe('failed')
    expect(back.searchParams.get('error')).toBe('external_access_denied')
  })

  it('a wrong nonce, an id_token signed by another key and one for another audience are refused', async () => {
    const b = browser(h)
    const { cb } = await toCallback(b, 'oauth_custom_idp', 'alice', (u) =>
      u.searchParams.set('nonce', 'not-ours'),
    )
    const back = await land(b, cb)
    expect(back.searchParams.get('error')).toBe('external_id_token_invalid')
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])

    const b2 = browser(h)
    const forged = await social(b2, 'oauth_gitlab', 'alice')
    expect(forged.back.searchParams.get('__authn_status')).toBe('failed')
    expect(forged.back.searchParams.get('error')).toBe('external_id_token_invalid')

    // Signed by the IdP's own key, but for another client.
    const b3 = browser(h)
    const mixed = await social(b3, 'oauth_slack', 'alice')
    expect(mixed.back.searchParams.get('__authn_status')).toBe('failed')
    expect(mixed.back.searchParams.get('error')).toBe('external_id_token_invalid')
    expect(ok(await b3.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('a callback for a provider disabled meanwhile fails; redirect_url must be an allowed origin', async () => {
    const b = browser(h)
    const { cb } = await toCallback(b, 'oauth_custom_plain', 'plain')
    const list = ok(await bapiJson(h, 'GET', '/v1/oauth-providers?limit=50'))
    const plain = list.data.find((p: any) => p.provider_key === 'custom_plain')
    ok(await bapiJson(h, 'PATCH', `/v1/oauth-providers/${plain.id}`, { enabled: false }))
    try {
      const back = await land(b, cb)
      expect(back.searchParams.get('error')).toBe('external_provider_disabled')
      // A disabled provider is no factor: the sign-in starts without going anywhere.
      const off = ok(
        await b.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_custom_plain', redirect_url: APP }),
      )
      expect(off.response.first_factor_verification).toBeNull()
      const env = (await (await h.fapi('GET', '/v1/environment')).json()) as any
      expect(env.auth_config.social.oauth_custom_plain).toBeUndefined()
    } finally {
      ok(await bapiJson(h, 'PATCH', `/v1/oauth-providers/${plain.id}`, { enabled: true }))
    }
    const evil = await browser(h).json('POST', '/v1/client/sign-ins', {
      strategy: 'oauth_custom_idp',
      redirect_url: 'https://evil.example/steal',
    })
    expect(evil.status).toBeGreaterThanOrEqual(400)
    expect(evil.status).toBeLessThan(500)
  })

  it('a provider with linked accounts cannot be deleted', async () => {
    const list = ok(await bapiJson(h, 'GET', '/v1/oauth-providers?limit=50'))
    const custom = list.data.find((p: any) => p.provider_key === 'custom_idp')
    expectError(await bapiJson(h, 'DELETE', `/v1/oauth-providers/${custom.id}`), 409, 'oauth_provider_in_use')
  })
})

describe('flow state', () => {
  it('keeps the verifier sealed, and drops a flow nobody came back from once it expires', async () => {
    const b = browser(h)
    ok(await b.json('POST', '/v1/client/sign-ins', { strategy: 'oauth_google', redirect_url: APP }))
    const flows = () =>
      h.ctx((ctx) => ctx.client.query('select code_verifier, expire_at from oauth_flows').all()) as Array<{
        code_verifier: string
        expire_at: number
      }>
    const mine = flows().at(-1)!
    expect(mine.code_verifier).toStartWith('v1.')
    const before = flows().length
    const start = h.clock.now()
    h.clock.set(mine.expire_at + 1)
    try {
      await h.rt.scheduler.tick()
      expect(flows().length).toBeLessThan(before)
      expect(flows().some((f) => f.expire_at === mine.expire_at)).toBe(false)
    } finally {
      h.clock.set(start)
    }
  })
})

describe('external accounts of the signed-in user, and provider tokens for the backend', () => {
  it("connects another provider from the profile; someone else's identity is refused", async () => {
    const b = browser(h)
    const first = await social(b, 'oauth_custom_idp', 'frank')
    expect(first.back.searchParams.get('__authn_status')).toBe('transferable')
    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true, password: PASSWORD }))
    const userId = up.response.created_user_id

    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user.external_accounts).toHaveLength(1)
    expect(user.external_accounts[0]).toMatchObject({
      object: 'external_account',
      provider: 'custom_idp',
      strategy: 'oauth_custom_idp',
      provider_user_id: 'frank',
      email_address: 'frank@social.test',
      email_address_verified: true,
    })
    expect(JSON.stringify(user)).not.toContain('access_token')

    const list = ok(await b.json('GET', '/v1/me/external-accounts'))
    expect(list.response.map((a: any) => a.provider)).toEqual(['custom_idp'])
    const one = ok(await b.json('GET', `/v1/me/external-accounts/${list.response[0].id}`))
    expect(one.response.id).toBe(list.response[0].id)
    expectError(await browser(h).json('GET', '/v1/me/external-accounts'), 401, 'authentication_invalid')

    idp.state.nextAccount = 'frank'
    const started = ok(
      await b.json('POST', '/v1/me/external-accounts', { strategy: 'oauth_google', redirect_url: APP }),
    )
    expect(started.response.external_verification_redirect_url).toStartWith(`${idp.issuer}/auth?`)
    // The IdP's browser session is a fresh one (another cookie jar), as a person would log in there.
    const cb = await idp.authorize(started.response.external_verification_redirect_url, callbackBase())
    const back = await land(b, cb)
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const after = ok(await b.json('GET', '/v1/me/external-accounts'))
    expect(after.response.map((a: any) => a.provider)).toEqual(['custom_idp', 'google'])

    // dave's Google identity is dave's: connecting it to frank is refused.
    const again = ok(
      await b.json('POST', '/v1/me/external-accounts', { strategy: 'oauth_custom_plain', redirect_url: APP }),
    )
    idp.state.nextAccount = 'plain'
    const taken = await land(
      b,
      await idp.authorize(again.response.external_verification_redirect_url, callbackBase()),
    )
    expect(taken.searchParams.get('__authn_status')).toBe('failed')
    expect(taken.searchParams.get('error')).toBe('external_account_exists')
    expectError(
      await b.json('POST', '/v1/me/external-accounts', { strategy: 'oauth_nope', redirect_url: APP }),
      422,
      'strategy_for_user_invalid',
    )
    expectError(
      await b.json('POST', '/v1/me/external-accounts', {
        strategy: 'oauth_google',
        redirect_url: 'https://evil.example/',
      }),
      422,
      'invalid_redirect_url',
    )
  })

  it('hands the backend a provider token, refreshed once it has expired', async () => {
    const b = browser(h)
    await social(b, 'oauth_custom_idp', 'erin')
    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true, password: PASSWORD }))
    const userId = up.response.created_user_id
    const first = ok(await bapiJson(h, 'GET', `/v1/users/${userId}/oauth-access-tokens/oauth_custom_idp`))
    expect(first.data).toHaveLength(1)
    expect(first.data[0]).toMatchObject({
      object: 'oauth_access_token',
      provider: 'oauth_custom_idp',
      provider_user_id: 'erin',
    })
    const userinfo = async (token: string) =>
      fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
    expect(await userinfo(first.data[0].token)).toBe(200)
    // Not expired yet: the same token.
    const same = ok(await bapiJson(h, 'GET', `/v1/users/${userId}/oauth-access-tokens/custom_idp`))
    expect(same.data[0].token).toBe(first.data[0].token)

    const start = h.clock.now()
    h.clock.advance(2 * 3600_000)
    try {
      const fresh = ok(await bapiJson(h, 'GET', `/v1/users/${userId}/oauth-access-tokens/custom_idp`))
      expect(fresh.data[0].token).not.toBe(first.data[0].token)
      expect(fresh.data[0].expires_at).toBeGreaterThan(h.clock.now())
      expect(await userinfo(fresh.data[0].token)).toBe(200)
    } finally {
      h.clock.set(start)
    }
    // Clerk's spelling (what @clerk/backend's users.getUserOauthAccessToken calls).
    const clerk = ok(await bapiJson(h, 'GET', `/v1/users/${userId}/oauth_access_tokens/oauth_custom_idp`))
    expect(clerk.data[0].provider_user_id).toBe('erin')
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${userId}/oauth-access-tokens/github`)).data).toEqual([])
    expectError(
      await bapiJson(h, 'GET', '/v1/users/user_nope/oauth-access-tokens/github'),
      404,
      'resource_not_found',
    )
  })

  it('unlinks, but not the last way to sign in; the token is revoked at the provider', async () => {
    const erinUser = await createUser(h, { email_address: ['erin.solo@social.test'] })
    void erinUser
    // A user with no password whose only way in is the provider.
    const solo = ok(
      await bapiJson(h, 'POST', '/v1/users', {
        email_address: ['solo@social.test'],
        skip_password_requirement: true,
      }),
    )
    idp.accounts.solo = { email: 'solo@social.test', email_verified: true }
    const b = browser(h)
    const { back } = await social(b, 'oauth_custom_idp', 'solo')
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const [account] = ok(await b.json('GET', '/v1/me/external-accounts')).response
    const token = ok(await bapiJson(h, 'GET', `/v1/users/${solo.id}/oauth-access-tokens/custom_idp`)).data[0]
      .token

    const instance = ok(await bapiJson(h, 'GET', '/v1/instance'))
    ok(await bapiJson(h, 'PATCH', '/v1/instance', { first_factors: ['password'] }))
    try {
      expectError(
        await b.json('DELETE', `/v1/me/external-accounts/${account.id}`),
        409,
        'external_account_last_sign_in_method',
      )
    } finally {
      ok(await bapiJson(h, 'PATCH', '/v1/instance', { first_factors: instance.first_factors }))
    }
    // With email codes on, the verified address is another way in.
    const gone = ok(await b.json('DELETE', `/v1/me/external-accounts/${account.id}`))
    expect(gone.response).toEqual({ object: 'external_account', id: account.id, deleted: true })
    await h.settle()
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${solo.id}`)).external_accounts).toEqual([])
    expectError(await b.json('GET', `/v1/me/external-accounts/${account.id}`), 404, 'resource_not_found')
    // Revoked at the IdP (best effort, after the commit): its grant is gone, so is the access token.
    const status = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } }).then(
      (r) => r.status,
    )
    expect(status).toBe(401)
    const events = ok(await bapiJson(h, 'GET', '/v1/events?limit=50')).data.map((e: any) => e.type)
    expect(events).toContain('externalAccount.deleted')
    expect(events).toContain('externalAccount.created')
  })
})
