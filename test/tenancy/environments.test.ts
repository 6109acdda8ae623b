import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createPublicKey } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { readKeys } from '../../src/crypto/keys'
import { createEnvironment } from '../../src/tenancy/environments'
import { envDir, envKeysDir } from '../../src/tenancy/paths'
import EdDSA from '../fixtures/keys/EdDSA.json'
import ES256 from '../fixtures/keys/ES256.json'
import RS256 from '../fixtures/keys/RS256.json'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, { algorithm: 'ES256' }, { algorithm: 'EdDSA' }] })
})
afterAll(() => h.close())

const FIXTURES = [...RS256.keys, ...ES256.keys, ...EdDSA.keys]
/** The public half of a private JWK, as a comparable string. */
const publicOf = (jwk: object) =>
  JSON.stringify(createPublicKey({ key: jwk as never, format: 'jwk' }).export({ format: 'jwk' }))
const fixturePublics = new Set(FIXTURES.map(publicOf))
const publicsOf = (dir: string) => readKeys(dir).map((k) => publicOf(k.privateKey.export({ format: 'jwk' })))

describe('env creation: signing keys', () => {
  it('writes an active key and a standby per env, 0600 files in a 0700 folder, distinct kids and material', async () => {
    const kids = new Set<string>()
    const material = new Set<string>()
    for (const [i, env] of h.envs.entries()) {
      const dir = envKeysDir(envDir(h.dir, env.id))
      const alg = (['RS256', 'ES256', 'EdDSA'] as const)[i]!
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      const files = readdirSync(dir).sort()
      expect(files).toHaveLength(3)
      expect(files[0]).toBe('data.key')
      for (const f of files) {
        expect(f).toMatch(/^(data\.key|signing-key_[0-9A-Z]{26}\.json)$/)
        expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
      }
      const keys = readKeys(dir)
      expect(keys.map((k) => k.alg)).toEqual([alg, alg])
      expect(keys.map((k) => k.activateAt !== null).sort()).toEqual([false, true])
      for (const k of keys) kids.add(k.kid)
      for (const p of publicsOf(dir)) {
        expect(fixturePublics.has(p)).toBe(true) // the harness's pre-generated pool
        material.add(p)
      }
      // Served and usable: the env's JWKS lists both kids.
      const jwks = (await (await h.fapi('GET', '/.well-known/jwks.json', undefined, { env })).json()) as {
        keys: Array<{ kid: string; alg: string }>
      }
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort())
    }
    expect(kids.size).toBe(2 * h.envs.length)
    expect(material.size).toBe(2 * h.envs.length)
  })

  it('generates fresh keys when no key source is given (serve and the CLI)', async () => {
    const { keys: _harnessKeys, ...production } = h.rt.tenancy
    const env = await createEnvironment(production, { name: 'Fresh', algorithm: 'ES256' })
    const publics = publicsOf(envKeysDir(envDir(h.dir, env.id)))
    expect(publics).toHaveLength(2)
    expect(new Set(publics).size).toBe(2)
    for (const p of publics) expect(fixturePublics.has(p)).toBe(false)
  })
})
