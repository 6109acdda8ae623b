import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import * as jose from 'jose'
import {
  gitlabEndpoints,
  MICROSOFT_CONSUMER_TENANT,
  microsoftIssuer,
  presetOf,
} from '../../src/domain/oauth-providers/presets'
import { ecSigningKey, mintClientSecretJwt } from '../../src/domain/oauth-providers/upstream'
import { bapiJson, expectError, ok } from '../flows/support'
import { createHarness, type Harness } from '../helpers/harness'

/**
 * Preset settings beside the client id: Microsoft's tenant mode enforced on the id_token's
 * `tid`/issuer, GitLab's self-hosted base URL, Apple's signing key (the ES256 client-secret JWT).
 */

const WORK = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const OTHER = '0b2d1b8e-1111-4222-8333-944445555666'
const iss = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`

describe('Microsoft tenant modes', () => {
  it('common accepts work and personal accounts', () => {
    expect(microsoftIssuer('common', { tid: WORK })).toBe(iss(WORK))
    expect(microsoftIssuer('common', { tid: MICROSOFT_CONSUMER_TENANT })).toBe(iss(MICROSOFT_CONSUMER_TENANT))
  })
  it('organizations refuses the personal-accounts tenant', () => {
    expect(microsoftIssuer('organizations', { tid: WORK })).toBe(iss(WORK))
    expect(microsoftIssuer('organizations', { tid: MICROSOFT_CONSUMER_TENANT })).toBeNull()
  })
  it('consumers accepts only the personal-accounts tenant', () => {
    expect(microsoftIssuer('consumers', { tid: MICROSOFT_CONSUMER_TENANT })).toBe(
      iss(MICROSOFT_CONSUMER_TENANT),
    )
    expect(microsoftIssuer('consumers', { tid: WORK })).toBeNull()
  })
  it('a tenant id accepts only itself', () => {
    expect(microsoftIssuer(WORK, { tid: WORK })).toBe(iss(WORK))
    expect(microsoftIssuer(WORK, { tid: WORK.toUpperCase() })).toBe(iss(WORK))
    expect(microsoftIssuer(WORK, { tid: OTHER })).toBeNull()
  })
  it('no tid, or a tid that is not a GUID, is refused in every mode', () => {
    for (const mode of ['common', 'organizations', 'consumers', WORK]) {
      expect(microsoftIssuer(mode, {})).toBeNull()
      expect(microsoftIssuer(mode, { tid: '../evil' })).toBeNull()
      expect(microsoftIssuer(mode, { tid: 42 })).toBeNull()
    }
  })
  it('the preset checks the issuer under the row tenant and points its endpoints at it', () => {
    const ms = presetOf('microsoft')!
    expect(ms.issuerFromClaims!({ tid: WORK }, { tenant: 'consumers' })).toBeNull()
    expect(ms.issuerFromClaims!({ tid: WORK }, {})).toBe(iss(WORK))
    expect(ms.endpointsFor!({ tenant: 'organizations' })).toMatchObject({
      authorizationUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      tokenUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
    })
  })
})

describe('GitLab base URL', () => {
  it('derives issuer and endpoints from the base', () => {
    expect(gitlabEndpoints('https://git.example.org/')).toEqual({
      issuer: 'https://git.example.org',
      authorizationUrl: 'https://git.example.org/oauth/authorize',
      tokenUrl: 'https://git.example.org/oauth/token',
      userinfoUrl: 'https://git.example.org/oauth/userinfo',
      jwksUrl: 'https://git.example.org/oauth/discovery/keys',
      revocationUrl: 'https://git.example.org/oauth/revoke',
    })
  })
})

describe("Apple's client-secret JWT", () => {
  it('is an ES256 JWT that verifies against the public key, with Apple claims', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const key = ecSigningKey(pem)!
    const now = Math.floor(Date.now() / 1000)
    const jwt = mintClientSecretJwt({
      key,
      keyId: 'KEY1234567',
      teamId: 'TEAM123456',
      clientId: 'com.example.web',
      audience: 'https://appleid.apple.com',
      nowSeconds: now,
    })
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, publicKey, {
      issuer: 'TEAM123456',
      subject: 'com.example.web',
      audience: 'https://appleid.apple.com',
      algorithms: ['ES256'],
    })
    expect(protectedHeader.kid).toBe('KEY1234567')
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15_777_000)
    // An RSA key or garbage is not a .p8 key.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    expect(ecSigningKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toBeNull()
    expect(ecSigningKey('not a key')).toBeNull()
  })
})

describe('preset settings through BAPI', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it('Microsoft tenant and GitLab base URL: stored, shown, applied; refused where they do not apply', async () => {
    const ms = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'microsoft',
        client_id: 'ms-client',
        client_secret: 'ms-secret',
        tenant: 'Organizations',
      }),
    )
    expect(ms.tenant).toBe('organizations')
    expect(ms.token_url).toBe('https://login.microsoftonline.com/organizations/oauth2/v2.0/token')
    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${ms.id}`, { tenant: 'contoso' }),
      422,
      'form_param_value_invalid',
    )
    const tenant = ok(await bapiJson(h, 'PATCH', `/v1/oauth-providers/${ms.id}`, { tenant: WORK }))
    expect(tenant.issuer).toBe(iss(WORK))
    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${ms.id}`, { base_url: 'https://git.example.org' }),
      422,
      'form_param_unknown',
    )

    const gl = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'gitlab',
        client_id: 'gl-client',
        client_secret: 'gl-secret',
        base_url: 'https://git.example.org/',
      }),
    )
    expect(gl).toMatchObject({
      base_url: 'https://git.example.org',
      issuer: 'https://git.example.org',
      authorization_url: 'https://git.example.org/oauth/authorize',
    })
    const cleared = ok(await bapiJson(h, 'PATCH', `/v1/oauth-providers/${gl.id}`, { base_url: null }))
    expect(cleared.authorization_url).toBe('https://gitlab.com/oauth/authorize')
    expectError(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'google',
        client_id: 'g',
        client_secret: 's',
        tenant: 'common',
      }),
      422,
      'form_param_unknown',
    )
  })

  it('Apple: the .p8 key is write-only and must be an ES256 key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const apple = ok(
      await bapiJson(h, 'POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'apple',
        client_id: 'com.example.web',
        team_id: 'TEAM123456',
        key_id: 'KEY1234567',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
    )
    expect(apple).toMatchObject({ team_id: 'TEAM123456', key_id: 'KEY1234567', has_private_key: true })
    expect(JSON.stringify(apple)).not.toContain('PRIVATE KEY')
    expectError(
      await bapiJson(h, 'PATCH', `/v1/oauth-providers/${apple.id}`, { private_key: 'nope' }),
      422,
      'form_param_format_invalid',
    )
  })
})
