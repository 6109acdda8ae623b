/**
 * Writes test/fixtures/keys/<alg>.json: a small pool of pre-generated signing keys per
 * algorithm that the test harness hands to the envs it creates (test/helpers/keys.ts), instead
 * of generating two RSA-2048 pairs per env. They are test fixtures, published in this
 * repository: never use them for anything else. Run once; rerun only to change the pool:
 *
 *   npx bun scripts/generate-test-keys.ts && npx biome format --write test/fixtures/keys
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateSigningKey, SIGNING_ALGORITHMS } from '../src/crypto/keys'

/** Keys per algorithm: two per env, so a harness gets distinct keys for its first four envs. */
const POOL = 8

const dir = resolve(import.meta.dir, '..', 'test', 'fixtures', 'keys')
mkdirSync(dir, { recursive: true })
for (const alg of SIGNING_ALGORITHMS) {
  const keys = []
  for (let i = 0; i < POOL; i++) keys.push((await generateSigningKey(alg)).export({ format: 'jwk' }))
  const file = {
    _comment:
      'Test fixture, public: never use these keys outside the test suite (scripts/generate-test-keys.ts).',
    alg,
    keys,
  }
  writeFileSync(join(dir, `${alg}.json`), `${JSON.stringify(file, null, 2)}\n`)
  console.log(`${alg}: ${POOL} keys`)
}
