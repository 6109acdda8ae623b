import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as client from 'openid-client'
import { body } from '../helpers/harness'
import {
  authorizationUrl,
  authorizeAsPerson,
  consentFields,
  createApp,
  decide,
  discover,
  type Provider,
  REDIRECT,
  signedInPerson,
  startProvider,
  visit,
} from './oauth-support'

let p: Provider
beforeAll(async () => {
  p = await startProvider()
})
afterAll(() => p.stop())

describe('OAuth 2.0 / OIDC provider, with openid-client as the relying party', () => {
  it('discovery: one issuer, every endpoint, CORS-open and cached five minutes', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${p.issuer}${path}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(res.headers.get('cache-control')).toBe('public, max-age=300')
      const doc = (await res.json()) as Record<string, any>
      expect(doc).toMatchObject({
        issuer: p.issuer,
        authorization_endpoint: `${p.issuer}/oauth/authorize`,
        token_endpoint: `${p.issuer}/oauth/token`,
        userinfo_endpoint: `${p.issuer}/oauth/userinfo`,
        introspection_endpoint: `${p.issuer}/oauth/token_info`,
        revocation_endpoint: `${p.issuer}/oauth/revoke`,
        jwks_uri: `${p.issuer}/.well-known/jwks.json`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      })
      expect(doc.id_token_signing_alg_values_supported).toContain('RS256')
    }
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    expect(config.serverMetadata().issuer).toBe(p.issuer)
  })

  it('code + PKCE with client_secret_basic: id_token, userinfo, refresh rotation, introspection, reuse detection', async () => {
    const app = await createApp(p, {})
    const person = await signedInPerson(p, { public_metadata: { plan: 'pro' } })
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const nonce = client.randomNonce()
    const { url, verifier, state } = await authorizationUrl(config, {
      scope: 'openid profile email offline_access public_metadata',
      nonce,
    })
    const { callback, consentShown } = await authorizeAsPerson(p, url, person.cookie)
    expect(consentShown).toBe(true)
    expect(callback.searchParams.get('iss')).toBe(p.issuer)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    })
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.refresh_token).toStartWith('ort_')
    const claims = tokens.claims()!
    expect(claims).toMatchObject({
      iss: p.issuer,
      sub: person.user.id,
      aud: app.client_id,
      azp: app.client_id,
      nonce,
      sid: person.sessionId,
      email: person.email,
      email_verified: true,
      given_name: 'Ada',
    })
    expect(typeof claims.auth_time).toBe('number')
    expect(typeof claims.at_hash).toBe('string')

    // The access token is an RFC 9068 JWT.
    const [header, payload] = tokens.access_token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()))
    expect(header.typ).toBe('at+jwt')
    expect(payload).toMatchObject({ iss: p.issuer, sub: person.user.id, client_id: app.client_id })

    const info = await client.fetchUserInfo(config, tokens.access_token, person.user.id)
    expect(info).toMatchObject({
      sub: person.user.id,
      email: person.email,
      name: 'Ada',
      public_metadata: { plan: 'pro' },
    })
    expect(info.private_metadata).toBeUndefined()

    const active = await client.tokenIntrospection(config, tokens.access_token)
    expect(active).toMatchObject({ active: true, client_id: app.client_id, sub: person.user.id })

    // Refresh: a new pair, and no new id_token (OIDC Core §12.2; openid-client accepts that).
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect(refreshed.id_token).toBeUndefined()
    expect(refreshed.claims()).toBeUndefined()
    const [, refreshedPayload] = refreshed.access_token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()))
    expect(refreshedPayload).toMatchObject({
      sub: claims.sub,
      client_id: claims.aud,
      auth_time: claims.auth_time,
      sid: claims.sid,
    })
    // Still usable for userinfo, the claims of the first id_token unchanged.
    expect((await client.fetchUserInfo(config, refreshed.access_token, claims.sub)).sub).toBe(claims.sub)
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false)
    expect((await client.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(true)

    // Reuse of the spent refresh token revokes the grant: the fresh one is dead too.
    const reuse = await client.refreshTokenGrant(config, tokens.refresh_token!).catch((e) => e)
    expect(reuse).toBeInstanceOf(client.ResponseBodyError)
    expect(reuse.error).toBe('invalid_grant')
    const after = await client.refreshTokenGrant(config, refreshed.refresh_token!).catch((e) => e)
    expect(after.error).toBe('invalid_grant')
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false)
    const userinfoAfter = await client
      .fetchUserInfo(config, refreshed.access_token, person.user.id)
      .catch((e) => e)
    expect(userinfoAfter).toBeInstanceOf(client.WWWAuthenticateChallengeError)
  })

  it('a second visit skips consent; the user revokes, the app loses access; the operator revokes too', async () => {
    const app = await createApp(p, {})
    const person = await signedInPerson(p)
    const config = await discover(p, app.client_id, client.ClientSecretPost(app.client_secret))
    const flow = async () => {
      const verifier = client.randomPKCECodeVerifier()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      const { callback, consentShown } = await authorizeAsPerson(p, url, person.cookie)
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
      return { tokens, consentShown }
    }
    const first = await flow()
    expect(first.consentShown).toBe(true)
    const second = await flow()
    expect(second.consentShown).toBe(false)

    // The user revokes from their account: refresh fails, introspection says inactive.
    const grants = await visit(`${p.issuer}/v1/me/oauth-authorization-grants`, person.cookie)
    const grant = JSON.parse(grants.html).response.data[0]
    expect(grant).toMatchObject({ client_id: app.client_id, scopes: ['openid', 'email', 'offline_access'] })
    const del = await visit(`${p.issuer}/v1/me/oauth-authorization-grants/${grant.id}`, person.cookie, {
      method: 'DELETE',
    })
    expect(del.status).toBe(200)
    const refused = await client.refreshTokenGrant(config, second.tokens.refresh_token!).catch((e) => e)
    expect(refused).toBeInstanceOf(client.ResponseBodyError)
    expect(refused.status).toBe(401)
    expect(refused.error).toBe('invalid_grant')
    expect((await client.tokenIntrospection(config, second.tokens.access_token)).active).toBe(false)

    // Consent again (the grant is gone), then the operator unlinks the app.
    const third = await flow()
    expect(third.consentShown).toBe(true)
    const listed = await body(await p.h.bapi('GET', `/v1/oauth-applications/${app.id}/authorization-grants`))
    expect(listed.data).toHaveLength(1)
    await p.h.bapi('DELETE', `/v1/oauth-applications/${app.id}/authorization-grants/${listed.data[0].id}`)
    expect((await client.refreshTokenGrant(config, third.tokens.refresh_token!).catch((e) => e)).error).toBe(
      'invalid_grant',
    )
  })

  it('a public client (none + PKCE) on a loopback redirect with any port; revocation (RFC 7009)', async () => {
    const app = await createApp(p, { is_public: true, redirect_uris: ['http://127.0.0.1/cli-callback'] })
    const person = await signedInPerson(p)
    const config = await discover(p, app.client_id, client.None())
    const verifier = client.randomPKCECodeVerifier()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:53682/cli-callback',
      scope: 'openid offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const { callback } = await authorizeAsPerson(p, url, person.cookie)
    expect(callback.origin).toBe('http://127.0.0.1:53682')
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!)
    await client.tokenRevocation(config, rotated.refresh_token!)
    expect((await client.refreshTokenGrant(config, rotated.refresh_token!).catch((e) => e)).error).toBe(
      'invalid_grant',
    )
    const userinfo = await client.fetchUserInfo(config, rotated.access_token, person.user.id).catch((e) => e)
    expect(userinfo).toBeInstanceOf(client.WWWAuthenticateChallengeError)
  })

  it('a wrong secret is a 401 invalid_client with a Basic challenge', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic('not-the-secret'))
    const err = await client.refreshTokenGrant(config, 'ort_whatever').catch((e) => e)
    expect(err).toBeInstanceOf(client.WWWAuthenticateChallengeError)
    expect(err.cause[0].scheme).toBe('basic')
    expect(err.response.status).toBe(401)
  })

  it('Deny sends access_denied back with state and iss', async () => {
    const app = await createApp(p, {})
    const person = await signedInPerson(p)
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state })
    const page = await visit(url.href, person.cookie)
    expect(page.status).toBe(200)
    expect(page.res.headers.get('x-frame-options')).toBe('DENY')
    expect(page.res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(page.html).toContain('Acme Notes')
    const denied = await decide(p, person.cookie, consentFields(page.html), 'deny')
    expect(denied.status).toBe(303)
    const cb = new URL(denied.location!)
    expect(Object.fromEntries(cb.searchParams)).toMatchObject({
      error: 'access_denied',
      state,
      iss: p.issuer,
    })
    const err = await client.authorizationCodeGrant(config, cb, { expectedState: state }).catch((e) => e)
    expect(err).toBeInstanceOf(client.AuthorizationResponseError)
    expect(err.error).toBe('access_denied')
  })

  it('dynamic client registration (RFC 7591): off by default, then a public client registers and signs in', async () => {
    const off = await fetch(`${p.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT] }),
    })
    expect(off.status).toBe(404)
    const before = (await (await fetch(`${p.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      any
    >
    expect(before.registration_endpoint).toBeUndefined()

    await p.h.bapi('PATCH', '/v1/instance', { oauth_provider: { dynamic_client_registration: true } })
    const server = await client.discovery(new URL(p.issuer), 'unused', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    })
    expect(server.serverMetadata().registration_endpoint).toBe(`${p.issuer}/oauth/register`)
    const bad = await fetch(`${p.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://x.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).error).toBe('invalid_client_metadata')
    const badUri = await fetch(`${p.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['javascript:alert(1)'] }),
    })
    expect(((await badUri.json()) as any).error).toBe('invalid_redirect_uri')

    const config = await client.dynamicClientRegistration(
      new URL(p.issuer),
      {
        redirect_uris: ['http://127.0.0.1/mcp-callback'],
        client_name: 'An MCP agent',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid email offline_access',
      },
      client.None(),
      { execute: [client.allowInsecureRequests] },
    )
    const registered = config.clientMetadata()
    expect(registered.client_id).toBeTruthy()
    expect(registered.client_secret).toBeUndefined()
    const app = (await body(await p.h.bapi('GET', '/v1/oauth-applications?limit=1'))).data[0]
    expect(app).toMatchObject({
      client_id: registered.client_id,
      is_public: true,
      dynamically_registered: true,
    })

    const person = await signedInPerson(p)
    for (const visitNumber of [1, 2]) {
      const verifier = client.randomPKCECodeVerifier()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: 'http://127.0.0.1:33333/mcp-callback',
        scope: 'openid email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      })
      const { callback, consentShown } = await authorizeAsPerson(p, url, person.cookie)
      // Consent is shown to self-registered clients every time.
      expect({ visitNumber, consentShown }).toEqual({ visitNumber, consentShown: true })
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
      expect(tokens.refresh_token).toBeTruthy()
      expect(tokens.claims()!.sub).toBe(person.user.id)
    }
    await p.h.bapi('PATCH', '/v1/instance', { oauth_provider: { dynamic_client_registration: false } })
  })
})
