import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import {
  createKeySet,
  JWKS_MAX_AGE_SECONDS,
  KEY_RETENTION_MS,
  openKeyStore,
  pruneKeys,
  readKeys,
  rotateKeys,
  signingKeyAt,
} from '../../src/crypto/keys'

const dirs: string[] = []
const tempKeys = () => {
  const d = mkdtempSync(join(tmpdir(), 'authn-keys-'))
  dirs.push(d)
  return join(d, 'keys')
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const T0 = Date.parse('2026-01-01T00:00:00Z')
const sign = async (dir: string, now: number) => {
  const key = signingKeyAt(readKeys(dir), now)!
  return new SignJWT({ sub: 'u' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuedAt(now / 1000)
    .setExpirationTime(now / 1000 + 60)
    .sign(key.privateKey)
}
const verify = async (dir: string, jwt: string, now: number) => {
  const store = openKeyStore(dir)
  return jwtVerify(jwt, createLocalJWKSet(store.jwks(now)), { currentDate: new Date(now) })
}

describe('signing keys', () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`creates a signing ${alg} key and a published standby, files mode 0600`, async () => {
      const dir = tempKeys()
      await createKeySet(dir, alg, T0)
      const keys = readKeys(dir)
      expect(keys).toHaveLength(2)
      expect(keys.every((k) => k.alg === alg)).toBe(true)
      expect(signingKeyAt(keys, T0)?.kid).toBe(keys[0]!.kid)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
      const jwks = openKeyStore(dir).jwks(T0)
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort())
      const jwt = await sign(dir, T0)
      expect((await verify(dir, jwt, T0)).payload.sub).toBe('u')
    })
  }

  it('rotates with overlap: the standby signs after a JWKS cache lifetime, the old key stays until retention ends', async () => {
    const dir = tempKeys()
    await createKeySet(dir, 'ES256', T0)
    const [first, standby] = readKeys(dir)
    const oldToken = await sign(dir, T0)
    // Rotating right away: the standby was published only now, so it waits a cache lifetime.
    const r = await rotateKeys(dir, T0)
    expect(r.signing.kid).toBe(standby!.kid)
    expect(r.signing.activate_at).toBe(T0 + JWKS_MAX_AGE_SECONDS * 1000)
    expect(signingKeyAt(readKeys(dir), T0)?.kid).toBe(first!.kid)
    const later = T0 + JWKS_MAX_AGE_SECONDS * 1000
    expect(signingKeyAt(readKeys(dir), later)?.kid).toBe(standby!.kid)
    // A new standby is published, and the old key still verifies its tokens.
    const published = openKeyStore(dir)
      .jwks(later)
      .keys.map((k) => k.kid)
    expect(published).toContain(first!.kid)
    expect(published).toContain(r.standby.kid)
    expect((await verify(dir, oldToken, T0 + 30_000)).payload.sub).toBe('u')
    // After retention the old key is unpublished and pruned.
    const gone = later + KEY_RETENTION_MS
    expect(
      openKeyStore(dir)
        .jwks(gone)
        .keys.map((k) => k.kid),
    ).not.toContain(first!.kid)
    expect(pruneKeys(dir, gone)).toEqual([first!.kid])
    expect(readKeys(dir).map((k) => k.kid)).not.toContain(first!.kid)
  })

  it('promotes at once when asked, and after a long publication without waiting', async () => {
    const dir = tempKeys()
    await createKeySet(dir, 'RS256', T0)
    const standby = readKeys(dir)[1]!
    const r = await rotateKeys(dir, T0 + 86400_000)
    expect(r.signing).toMatchObject({ kid: standby.kid, activate_at: T0 + 86400_000 })
    const again = await rotateKeys(dir, T0 + 86400_000, { immediate: true, alg: 'EdDSA' })
    expect(again.signing.alg).toBe('EdDSA')
    expect(signingKeyAt(readKeys(dir), T0 + 86400_000)?.kid).toBe(again.signing.kid)
  })

  it('the key store notices files changed by another process', async () => {
    const dir = tempKeys()
    await createKeySet(dir, 'ES256', T0)
    const store = openKeyStore(dir)
    const before = store.jwksJson(T0)
    await rotateKeys(dir, T0, { immediate: true })
    store.reload()
    expect(store.jwksJson(T0)).not.toBe(before)
  })
})
