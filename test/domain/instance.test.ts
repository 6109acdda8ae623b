import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import { JWKS_MAX_AGE_SECONDS } from '../../src/crypto/keys'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

describe('/v1/instance', () => {
  it('returns the defaults a new env starts with', async () => {
    const b = await body(await h.bapi('GET', '/v1/instance'))
    expect(b).toMatchObject({
      object: 'instance',
      id: h.env.id,
      environment_type: 'development',
      sign_up: { mode: 'public' },
      identifiers: { email_address: { enabled: true, required: true, used_for_first_factor: true } },
      first_factors: ['password', 'email_code'],
      password: { required: true, min_length: 8 },
      session: { max_lifetime_seconds: 604800, inactivity_timeout_seconds: null, multi_session: false },
      lockout: { enabled: true, max_attempts: 10, duration_seconds: 3600 },
      token: { algorithm: 'RS256' },
    })
  })

  it('merges a partial patch, replaces arrays and emits instance.updated', async () => {
    const b = await body(
      await h.bapi('PATCH', '/v1/instance', {
        password: { min_length: 12, require_numbers: true },
        session: { multi_session: true },
        allowed_origins: ['https://app.example.com/', 'http://localhost:5173'],
        redirect_urls: ['https://app.example.com/callback', 'myapp://oauth'],
      }),
    )
    expect(b.password).toMatchObject({ min_length: 12, require_numbers: true, max_length: 72 })
    expect(b.session).toMatchObject({ multi_session: true, max_lifetime_seconds: 604800 })
    expect(b.allowed_origins).toEqual(['https://app.example.com', 'http://localhost:5173'])
    const events = await body(await h.bapi('GET', '/v1/events?type=instance.updated'))
    expect(events.data[0].data.password.min_length).toBe(12)
    // The policy now applies to users.
    const weak = await h.bapi('POST', '/v1/users', {
      email_address: ['p@example.com'],
      password: 'elevenchars',
    })
    expect((await body(weak)).errors[0].code).toBe('form_password_length_too_short')
    const noNumber = await h.bapi('POST', '/v1/users', {
      email_address: ['p@example.com'],
      password: 'twelve chars long',
    })
    expect((await body(noNumber)).errors[0].code).toBe('form_password_no_number')
  })

  it('rejects bad settings with 422 and leaves the env as it was', async () => {
    const before = await body(await h.bapi('GET', '/v1/instance'))
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ password: { min_length: 4 } }, 'password.min_length'],
      [{ password: { min_length: 100, max_length: 50 } }, 'password.min_length'],
      [{ session: { max_lifetime_seconds: null, inactivity_timeout_seconds: null } }, 'session'],
      [{ identifiers: { email_address: { enabled: false } } }, 'identifiers.email_address.enabled'],
      [{ first_factors: ['phone_code'] }, 'first_factors'],
      [{ first_factors: ['email_code'] }, 'password.required'],
      [{ allowed_origins: ['https://app.example.com/path'] }, 'allowed_origins'],
      [{ redirect_urls: ['javascript:alert(1)'] }, 'redirect_urls'],
      [{ redirect_urls: ['http://evil.example.com/cb'] }, 'redirect_urls'],
      [{ token: { algorithm: 'HS256' } }, 'token.algorithm'],
      [{ sign_up: { mode: 'everyone' } }, 'sign_up.mode'],
      [{ lockout: { max_attempts: 0 } }, 'lockout.max_attempts'],
      [{ nonsense: true }, 'nonsense'],
    ]
    for (const [patch, param] of bad) {
      const res = await h.bapi('PATCH', '/v1/instance', patch)
      expect(res.status).toBe(422)
      const b = await body(res)
      expect(b.errors[0].meta?.param_name ?? 'body').toBe(param)
    }
    expect(await body(await h.bapi('GET', '/v1/instance'))).toEqual(before)
  })

  it('switches the token algorithm by publishing a new key before it signs', async () => {
    const jwksUrl = `https://${h.env.host}/.well-known/jwks.json`
    const before = await body(await h.request(jwksUrl))
    expect(before.keys.every((k: any) => k.alg === 'RS256')).toBe(true)
    const res = await h.bapi('PATCH', '/v1/instance', { token: { algorithm: 'ES256' } })
    expect((await body(res)).token.algorithm).toBe('ES256')
    const after = await body(await h.request(jwksUrl))
    const es = after.keys.filter((k: any) => k.alg === 'ES256')
    expect(es.length).toBeGreaterThan(0)
    // Still the RSA key signs until JWKS caches have seen the new key.
    expect(h.ctx((ctx) => ctx.keys.signingKey(ctx.clock.now()).alg)).toBe('RS256')
    h.clock.advance(JWKS_MAX_AGE_SECONDS * 1000)
    const signer = h.ctx((ctx) => ctx.keys.signingKey(ctx.clock.now()))
    expect(signer.alg).toBe('ES256')
    // A token it signs verifies against the published JWKS with an independent verifier.
    const jwt = await new SignJWT({ sub: 'user_x' })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid })
      .setIssuedAt(Math.floor(h.clock.now() / 1000))
      .sign(signer.privateKey)
    expect(decodeProtectedHeader(jwt).kid).toBe(signer.kid)
    const local = createLocalJWKSet(await body(await h.request(jwksUrl)))
    const { payload } = await jwtVerify(jwt, local, { currentDate: new Date(h.clock.now()) })
    expect(payload.sub).toBe('user_x')
  })
})

describe('JWKS', () => {
  it('serves the same public keys on the env host and on BAPI, with cache headers and no private parts', async () => {
    const wk = await h.request(`https://${h.env.host}/.well-known/jwks.json`)
    expect(wk.headers.get('cache-control')).toContain(`max-age=${JWKS_MAX_AGE_SECONDS}`)
    const a = await body(wk)
    const b = await body(await h.bapi('GET', '/v1/jwks'))
    expect(a).toEqual(b)
    for (const k of a.keys) {
      expect(k.use).toBe('sig')
      expect(k.kid).toMatch(/^key_/)
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k[priv]).toBeUndefined()
    }
  })
})
