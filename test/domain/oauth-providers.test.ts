import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bapiJson, expectError, ok } from '../flows/support'
import { createHarness, type Harness } from '../helpers/harness'
import { type Idp, startIdp } from '../helpers/oidc-idp'

/**
 * `/v1/oauth-providers` (BAPI): presets, custom_oidc from a real discovery document (an
 * oidc-provider IdP on loopback), custom_oauth2 with explicit endpoints; the write-only secret,
 * the immutables, soft delete, and the dry-run probe against the same real IdP.
 */

let h: Harness
let idp: Idp
const SECRET = 'idp-client-secret-0123456789abcdef'

beforeAll(async () => {
  h = await createHarness()
  idp = await startIdp({
    clients: [
      {
        client_id: 'authn-probe',
        client_secret: SECRET,
        redirect_uris: [`https://${'clerk.example.test'}/v1/oauth-callback/custom_probe`],
      },
    ],
    accounts: { alice: { email: 'alice@example.com', email_verified: true } },
  })
})
afterAll(async () => {
  await idp.close()
  h.close()
})

describe('oauth providers (BAPI)', () => {
  it('creates a preset with its endpoints, scopes and mapping built in; the secret never comes back', async () => {
    const created = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'github',
        client_id: 'gh-client',
        client_secret: 'gh-secret-value',
      }),
    )
    expect(created).toMatchObject({
      object: 'oauth_provider',
      provider_key: 'github',
      provider_kind: 'preset',
      preset: 'github',
      strategy: 'oauth_github',
      name: 'GitHub',
      enabled: true,
      client_id: 'gh-client',
      has_client_secret: true,
      scopes: ['read:user', 'user:email'],
      authorization_url: 'https://github.com/login/oauth/authorize',
      token_url: 'https://github.com/login/oauth/access_token',
      pkce: true,
      issuer: null,
    })
    expect(created.id).toMatch(/^oap_/)
    expect(created.callback_url).toBe(`https://${h.env.host}/v1/oauth-callback/github`)
    expect(JSON.stringify(created)).not.toContain('gh-secret-value')
    const got = ok(await bapiJson(h, 'GET', `/v1/oauth-providers/${created.id}`))
    expect(got).toEqual(created)
    expect(JSON.stringify(got)).not.toContain('gh-secret-value')
    // Sealed at rest.
    const stored = h.ctx((ctx) =>
      ctx.client.query('select client_secret from oauth_providers where id = ?').get(created.id),
    ) as { client_secret: string }
    expect(stored.client_secret).toStartWith('v1.')
    expect(stored.client_secret).not.toContain('gh-secret-value')

    const list = ok(await bapiJson(h, 'GET', '/v1/oauth-providers'))
    expect(list.data.map((p: { id: string }) => p.id)).toContain(created.id)

    // Every preset of the issue exists.
    for (const preset of [
      'google',
      'microsoft',
      'apple',
      'gitlab',
      'discord',
      'facebook',
      'linkedin',
      'slack',
      'x',
      'bitbucket',
      'twitch',
      'spotify',
      'notion',
    ]) {
      const p = ok(
        await bapiJson(h, 'POST', '/v1/oauth-providers', {
          provider_kind: 'preset',
          preset,
          client_id: `${preset}-client`,
          client_secret: 'x',
          enabled: false,
        }),
      )
      expect(p.authorization_url).toStartWith('https://')
      expect(p.token_url).toStartWith('https://')
    }
  })

  it('refuses bad input with a 4xx and changes nothing', async () => {
    const before = ok(await bapiJson(h, 'GET', '/v1/oauth-providers?limit=500')).data.length
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', { provider_kind: 'preset', client_id: 'a' }),
      422,
      'form_param_missing',
      'preset',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'myspace',
        client_id: 'a',
      }),
      422,
      'form_param_format_invalid',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oauth2',
        provider_key: 'acme',
        client_id: 'a',
        client_secret: 's',
        authorization_url: 'https://acme.example/authorize',
        token_url: 'https://acme.example/token',
        userinfo_url: 'https://acme.example/me',
        attribute_mapping: { user_id: 'id' },
      }),
      422,
      'form_param_format_invalid',
      'provider_key',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oauth2',
        provider_key: 'custom_acme',
        client_id: 'a',
        client_secret: 's',
        authorization_url: 'https://acme.example/authorize',
        token_url: 'https://acme.example/token',
        userinfo_url: 'https://acme.example/me',
      }),
      422,
      'form_param_missing',
      'attribute_mapping.user_id',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oauth2',
        provider_key: 'custom_acme',
        client_id: 'a',
        client_secret: 's',
        authorization_url: 'ftp://acme.example/authorize',
        token_url: 'https://acme.example/token',
        userinfo_url: 'https://acme.example/me',
        attribute_mapping: { user_id: 'id' },
      }),
      422,
      'form_param_format_invalid',
      'authorization_url',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oidc',
        provider_key: 'custom_nowhere',
        client_id: 'a',
        client_secret: 's',
        discovery_url: 'http://127.0.0.1:1/',
      }),
      422,
      'oauth_provider_discovery_failed',
      'discovery_url',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'github',
        client_id: 'again',
      }),
      422,
      'form_identifier_exists',
      'provider_key',
    )
    expect(ok(await bapiJson(h, 'GET', '/v1/oauth-providers?limit=500')).data.length).toBe(before)
    expectError(await bapiJson(h, 'GET', '/v1/oauth-providers/oap_nope'), 404, 'resource_not_found')
  })

  it('custom_oidc reads the discovery document; update keeps kind and key; the probe checks a real IdP', async () => {
    const created = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oidc',
        provider_key: 'custom_probe',
        client_id: 'authn-probe',
        client_secret: SECRET,
        discovery_url: `${idp.issuer}/.well-known/openid-configuration`,
      }),
    )
    expect(created).toMatchObject({
      provider_kind: 'custom_oidc',
      strategy: 'oauth_custom_probe',
      issuer: idp.issuer,
      authorization_url: `${idp.issuer}/auth`,
      token_url: `${idp.issuer}/token`,
      userinfo_url: `${idp.issuer}/me`,
      jwks_url: `${idp.issuer}/jwks`,
      scopes: ['openid', 'email', 'profile'],
    })

    const probe = ok(await bapiJson(h, 'POST', `/v1/oauth-providers/${created.id}/test`))
    expect(probe).toMatchObject({ object: 'oauth_provider_test_result', ok: true })
    const status = Object.fromEntries(probe.checks.map((c: any) => [c.name, c.status]))
    expect(status).toEqual({ discovery: 'pass', jwks: 'pass', token_endpoint: 'pass', redirect_uri: 'pass' })
    expect(probe.callback_url).toBe(`https://${h.env.host}/v1/oauth-callback/custom_probe`)

    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${created.id}`, { provider_key: 'custom_other' }),
      422,
      'form_param_immutable',
      'provider_key',
    )
    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${created.id}`, { provider_kind: 'custom_oauth2' }),
      422,
      'form_param_immutable',
      'provider_kind',
    )
    const patched = ok(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${created.id}`, {
        client_secret: 'a-wrong-secret',
        scopes: ['openid', 'email'],
        enabled: false,
        attribute_mapping: { username: 'nickname' },
      }),
    )
    expect(patched).toMatchObject({
      enabled: false,
      scopes: ['openid', 'email'],
      provider_key: 'custom_probe',
    })
    expect(patched.attribute_mapping).toMatchObject({ user_id: 'sub', username: 'nickname' })
    const refused = ok(await bapiJson(h, 'POST', `/v1/oauth-providers/${created.id}/test`))
    expect(refused.ok).toBe(false)
    expect(refused.checks.find((c: any) => c.name === 'token_endpoint')).toMatchObject({ status: 'fail' })

    const gone = ok(await bapiJson(h, 'DELETE', `/v1/oauth-providers/${created.id}`))
    expect(gone).toEqual({ object: 'oauth_provider', id: created.id, deleted: true })
    expectError(await bapiJson(h, 'GET', `/v1/oauth-providers/${created.id}`), 404, 'resource_not_found')
    expectError(await bapiJson(h, 'DELETE', `/v1/oauth-providers/${created.id}`), 404, 'resource_not_found')
    // The key of a deleted provider stays taken: external accounts of old still name it.
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oidc',
        provider_key: 'custom_probe',
        client_id: 'authn-probe',
        client_secret: SECRET,
        discovery_url: idp.issuer,
      }),
      422,
      'form_identifier_exists',
    )
  })

  it('custom_oauth2 takes explicit endpoints and a dot-path mapping', async () => {
    const created = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'custom_oauth2',
        provider_key: 'custom_plain',
        client_id: 'plain',
        client_secret: 'plain-secret',
        authorization_url: `${idp.issuer}/auth`,
        token_url: `${idp.issuer}/token`,
        userinfo_url: `${idp.issuer}/me`,
        pkce: false,
        token_endpoint_auth_method: 'client_secret_post',
        attribute_mapping: { user_id: 'sub', email: 'email', email_verified: 'email_verified' },
      }),
    )
    expect(created).toMatchObject({
      provider_kind: 'custom_oauth2',
      issuer: null,
      pkce: false,
      token_endpoint_auth_method: 'client_secret_post',
      attribute_mapping: { user_id: 'sub', email: 'email', email_verified: 'email_verified' },
    })
    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${created.id}`, { discovery_url: idp.issuer }),
      422,
      'form_param_unknown',
      'discovery_url',
    )
  })
})
