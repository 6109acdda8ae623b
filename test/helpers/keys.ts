import { createPrivateKey } from 'node:crypto'
import { generateSigningKey, type KeySource, type SigningAlgorithm } from '../../src/crypto/keys'
import EdDSA from '../fixtures/keys/EdDSA.json'
import ES256 from '../fixtures/keys/ES256.json'
import RS256 from '../fixtures/keys/RS256.json'

const POOLS: Record<SigningAlgorithm, Array<Record<string, string>>> = {
  RS256: RS256.keys,
  ES256: ES256.keys,
  EdDSA: EdDSA.keys,
}

/**
 * Signing keys for test envs from the pre-generated pool in test/fixtures/keys (made by
 * scripts/generate-test-keys.ts), each handed out once per source: the envs of one harness never
 * share key material. Past the pool it generates, like production. Every env still gets its own
 * kids and key files; tests of key generation itself (test/crypto/keys.test.ts) do not use this.
 */
export function fixtureKeys(): KeySource {
  const used: Record<SigningAlgorithm, number> = { RS256: 0, ES256: 0, EdDSA: 0 }
  return async (alg) => {
    const jwk = POOLS[alg][used[alg]++]
    return jwk ? createPrivateKey({ key: jwk as never, format: 'jwk' }) : generateSigningKey(alg)
  }
}
