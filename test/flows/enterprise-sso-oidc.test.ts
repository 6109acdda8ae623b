import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Browser, browser } from '../helpers/browser'
import { followToCallback, startOidcIdp, type TestOidcIdp } from '../helpers/enterprise-oidc-idp'
import { createHarness, type Harness } from '../helpers/harness'
import { bapiJson, expectError, ok } from './support'

/**
 * OIDC enterprise connections against oidc-provider on loopback: discovery at create, the probe,
 * code + PKCE + nonce through the shared callback, the id_token's signature checked with the
 * IdP's JWKS, userinfo for the email, JIT; a wrong nonce and a signature the trusted keys do
 * not verify are refused.
 */

let h: Harness
let idp: TestOidcIdp
let otherIdp: TestOidcIdp
let conn: any
const APP = 'http://localhost:5173/after'
const domain = `oidc-corp-${process.pid}.test`
let seq = 0
const account = (extra: Record<string, unknown> = {}) => {
  const n = ++seq
  return {
    sub: `user-${n}`,
    email: `mia${n}@${domain}`,
    email_verified: true,
    given_name: 'Mia',
    family_name: 'Wong',
    ...extra,
  }
}

beforeAll(async () => {
  h = await createHarness({ now: new Date().toISOString() })
  const callbackUrl = `https://${h.env.host}/v1/enterprise-sso-callback`
  idp = await startOidcIdp([callbackUrl])
  otherIdp = await startOidcIdp([callbackUrl])
  conn = ok(
    await bapiJson(h, 'POST', '/v1/enterprise-connections', {
      name: 'Corp OIDC',
      protocol: 'oidc',
      domains: [domain],
      oidc_discovery_url: idp.issuer,
      oidc_client_id: idp.clientId,
      oidc_client_secret: idp.clientSecret,
    }),
  )
})
afterAll(async () => {
  await idp.close()
  await otherIdp.close()
  h.close()
})

const pathOf = (url: URL) => url.pathname + url.search

async function signInThroughIdp(b: Browser, who: ReturnType<typeof account>) {
  const created = ok(
    await b.json('POST', '/v1/client/sign-ins', {
      strategy: 'enterprise_sso',
      identifier: who.email,
      redirect_url: APP,
    }),
  ).response
  const start = new URL(created.first_factor_verification.external_verification_redirect_url)
  expect(start.origin).toBe(idp.issuer)
  expect(start.searchParams.get('code_challenge_method')).toBe('S256')
  expect(start.searchParams.get('nonce')).toBeString()
  expect(start.searchParams.get('login_hint')).toBe(who.email)
  idp.signInAs(who)
  const back = await followToCallback(start.href, conn.oidc_redirect_uri)
  expect(back.searchParams.get('code')).toBeString()
  return { signIn: created, back }
}

describe('OIDC connections', () => {
  it('are created from issuer discovery; the client secret is write-only', () => {
    expect(conn).toMatchObject({
      protocol: 'oidc',
      provider: 'oidc_custom',
      oidc_discovery_url: idp.issuer,
      oidc_client_id: idp.clientId,
      has_oidc_client_secret: true,
      oidc_auth_url: `${idp.issuer}/auth`,
      oidc_token_url: `${idp.issuer}/token`,
      oidc_jwks_url: `${idp.issuer}/jwks`,
      oidc_redirect_uri: `https://${h.env.host}/v1/enterprise-sso-callback`,
    })
    expect(JSON.stringify(conn)).not.toContain(idp.clientSecret)
  })

  it('an unreachable issuer is a clear 422', async () => {
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        name: 'x',
        protocol: 'oidc',
        domains: [`nowhere-${process.pid}.test`],
        oidc_discovery_url: 'http://127.0.0.1:1',
        oidc_client_id: 'x',
      }),
      422,
      'enterprise_connection_fetch_failed',
      'oidc_discovery_url',
    )
  })

  it('the probe checks discovery, JWKS, PKCE, client credentials and the redirect URI', async () => {
    const r = ok(await bapiJson(h, 'POST', `/v1/enterprise-connections/${conn.id}/test`))
    const status = Object.fromEntries(r.checks.map((c: any) => [c.name, c.status]))
    expect(status).toMatchObject({
      config: 'pass',
      discovery: 'pass',
      jwks: 'pass',
      pkce: 'pass',
      auth_method: 'pass',
      token_endpoint: 'pass',
      redirect_uri: 'pass',
    })
    expect(r.ok).toBe(true)
    // A wrong secret: the IdP refuses the client.
    ok(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${conn.id}`, {
        oidc_client_secret: 'wrong-secret',
      }),
    )
    const bad = ok(await bapiJson(h, 'POST', `/v1/enterprise-connections/${conn.id}/test`))
    expect(bad.ok).toBe(false)
    expect(bad.checks.find((c: any) => c.name === 'token_endpoint').status).toBe('fail')
    ok(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${conn.id}`, {
        oidc_client_secret: idp.clientSecret,
      }),
    )
  })

  it('signs a new person in through the shared callback (JIT, email from userinfo)', async () => {
    const b = browser(h)
    const who = account()
    const { signIn, back } = await signInThroughIdp(b, who)
    const res = await b.call('GET', pathOf(back))
    expect(res.status).toBe(303)
    const app = new URL(res.headers.get('location')!)
    expect(app.origin + app.pathname).toBe(APP)
    expect(app.searchParams.get('__authn_status')).toBe('verified')
    const done = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(done.response.status).toBe('complete')
    const user = done.client.sessions[0].user
    expect(user).toMatchObject({ first_name: 'Mia', last_name: 'Wong' })
    expect(user.email_addresses[0]).toMatchObject({
      email_address: who.email,
      verification: { status: 'verified', strategy: 'oidc' },
    })
    expect(user.enterprise_accounts[0]).toMatchObject({ protocol: 'oidc', provider_user_id: who.sub })
    // The code and state are used once.
    const again = await b.call('GET', pathOf(back))
    expect(again.status).toBe(400)
    expect(again.headers.get('content-type')).toStartWith('text/html')
  })

  it('refuses an IdP that has not verified the email', async () => {
    const b = browser(h)
    const { back } = await signInThroughIdp(b, account({ email_verified: 'true' }))
    const res = await b.call('GET', pathOf(back))
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('has not verified the email address')
  })

  it('refuses an id_token with the wrong nonce', async () => {
    const b = browser(h)
    const { back } = await signInThroughIdp(b, account())
    // What we expect is no longer what the IdP was asked for.
    h.ctx((ctx) => ctx.client.query("update oidc_requests set nonce = 'another-nonce'").run())
    const res = await b.call('GET', pathOf(back))
    expect(res.status).toBe(400)
    expect(await res.text()).toMatch(/nonce/)
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('refuses an id_token whose signature the trusted keys do not verify', async () => {
    const b = browser(h)
    const { back } = await signInThroughIdp(b, account())
    // The connection now trusts another IdP's keys: the real id_token no longer verifies.
    h.ctx((ctx) =>
      ctx.client
        .query(
          "update enterprise_connections set oidc_metadata = json_set(oidc_metadata, '$.jwks_uri', ?) where id = ?",
        )
        .run(`${otherIdp.issuer}/jwks`, conn.id),
    )
    const res = await b.call('GET', pathOf(back))
    h.ctx((ctx) =>
      ctx.client
        .query(
          "update enterprise_connections set oidc_metadata = json_set(oidc_metadata, '$.jwks_uri', ?) where id = ?",
        )
        .run(`${idp.issuer}/jwks`, conn.id),
    )
    expect(res.status).toBe(400)
    expect(await res.text()).toMatch(/signature|key/i)
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('a cancelled sign-in at the IdP fails the verification; an unknown state is refused', async () => {
    const b = browser(h)
    const who = account()
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', {
        strategy: 'enterprise_sso',
        identifier: who.email,
        redirect_url: APP,
      }),
    ).response
    const state = new URL(
      created.first_factor_verification.external_verification_redirect_url,
    ).searchParams.get('state')!
    const res = await b.call(
      'GET',
      `/v1/enterprise-sso-callback?state=${state}&error=access_denied&iss=${encodeURIComponent(idp.issuer)}`,
    )
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('failed')
    const unknown = await b.call('GET', '/v1/enterprise-sso-callback?state=not-a-state&code=x')
    expect(unknown.status).toBe(400)
    expect(unknown.headers.get('content-type')).toStartWith('text/html')
  })

  it('an identifier alone of the routed domain, with no user yet, is offered enterprise_sso only (JIT)', async () => {
    expect(conn.enforce_sso).toBe(true)
    const b = browser(h)
    const who = account()
    const created = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: who.email })).response
    expect(created.status).toBe('needs_first_factor')
    expect(created.supported_first_factors).toEqual([
      { strategy: 'enterprise_sso', safe_identifier: who.email },
    ])
    // A password attempt for the same address is refused with a clear 4xx.
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: who.email,
        password: 'x'.repeat(12),
      }),
      422,
      'strategy_for_user_invalid',
    )
    const challenge = ok(
      await b.json('POST', `/v1/client/sign-ins/${created.id}/challenges`, {
        strategy: 'enterprise_sso',
        redirect_url: APP,
      }),
    ).response
    const start = new URL(challenge.external_verification_redirect_url)
    expect(start.origin).toBe(idp.issuer)
    idp.signInAs(who)
    const back = await followToCallback(start.href, conn.oidc_redirect_uri)
    const res = await b.call('GET', pathOf(back))
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${created.id}`)).response.status).toBe('complete')
    const user = ok(await b.json('GET', '/v1/client')).response.sessions[0].user
    expect(user.email_addresses[0].email_address).toBe(who.email)
    expect(user.enterprise_accounts[0]).toMatchObject({ protocol: 'oidc', provider_user_id: who.sub })
  })
})
