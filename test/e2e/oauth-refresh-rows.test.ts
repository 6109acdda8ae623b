import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as client from 'openid-client'
import {
  authorizeAsPerson,
  createApp,
  discover,
  type Provider,
  REDIRECT,
  signedInPerson,
  startProvider,
} from './oauth-support'

/**
 * The refresh_token grant writes one row per refresh: the new refresh token records the access
 * token minted with it. That access token still answers introspection and userinfo, can be
 * revoked alone (RFC 7009), and dies with its grant (reuse detection). A narrowed scope gets
 * the access token its own row, so its scopes stay exact.
 */

let p: Provider
beforeAll(async () => {
  p = await startProvider()
})
afterAll(() => p.stop())

const rows = () =>
  (p.h.ctx((ctx) => ctx.client.query('SELECT count(*) AS n FROM oauth_tokens').get()) as { n: number }).n

async function tokensFor(config: client.Configuration, cookie: string) {
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const { callback } = await authorizeAsPerson(p, url, cookie)
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })
}

describe('the refresh_token grant, one row per refresh', () => {
  it('the access token recorded on the refresh token: live, revocable alone, gone with its grant', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const person = await signedInPerson(p)
    const tokens = await tokensFor(config, person.cookie)

    const before = rows()
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!)
    expect(rows()).toBe(before + 1)
    expect(r1.id_token).toBeUndefined()

    const info = await client.tokenIntrospection(config, r1.access_token)
    expect(info).toMatchObject({ active: true, sub: person.user.id, scope: 'openid email offline_access' })
    expect((await client.fetchUserInfo(config, r1.access_token, person.user.id)).email).toBe(person.email)

    // RFC 7009 on that access token: it alone stops; its refresh token still refreshes.
    await client.tokenRevocation(config, r1.access_token)
    expect((await client.tokenIntrospection(config, r1.access_token)).active).toBe(false)
    expect((await client.tokenIntrospection(config, r1.refresh_token!)).active).toBe(true)
    const r2 = await client.refreshTokenGrant(config, r1.refresh_token!)
    expect((await client.tokenIntrospection(config, r2.access_token)).active).toBe(true)

    // A narrowed scope: that access token has its own row and exactly its scopes.
    const beforeNarrow = rows()
    const narrow = await client.refreshTokenGrant(config, r2.refresh_token!, { scope: 'openid' })
    expect(rows()).toBe(beforeNarrow + 2)
    expect(await client.tokenIntrospection(config, narrow.access_token)).toMatchObject({
      active: true,
      scope: 'openid',
    })
    expect((await client.fetchUserInfo(config, narrow.access_token, person.user.id)).email).toBeUndefined()
    // The rotated refresh token keeps the family's scopes.
    const wide = await client.refreshTokenGrant(config, narrow.refresh_token!)
    expect(wide.scope).toBe('openid email offline_access')

    // Reuse of a spent refresh token: the grant goes, with every access token of the family.
    const reuse = await client.refreshTokenGrant(config, r2.refresh_token!).catch((e) => e)
    expect(reuse).toBeInstanceOf(client.ResponseBodyError)
    expect(reuse.error).toBe('invalid_grant')
    for (const t of [r2.access_token, narrow.access_token, wide.access_token, wide.refresh_token!])
      expect((await client.tokenIntrospection(config, t)).active).toBe(false)
    expect((await client.refreshTokenGrant(config, wide.refresh_token!).catch((e) => e)).error).toBe(
      'invalid_grant',
    )
  }, 60_000)
})
