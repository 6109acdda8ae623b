import { describe, expect, it } from 'bun:test'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { compactVerify, decodeProtectedHeader, importSPKI } from 'jose'
import { type JwsAlgorithm, signJws, signJwsOffThread } from '../../src/crypto/jws'

const pairs: Record<JwsAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EdDSA: generateKeyPairSync('ed25519'),
}

describe('signJwsOffThread', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    it(`${alg}: the token signJws makes, and it verifies with the public key (jose)`, async () => {
      const { privateKey, publicKey } = pairs[alg]
      const header = { kid: 'k1', typ: 'JWT' }
      const payload = { sub: 'user_1', sid: 'sess_1', iat: 1_800_000_000, v: 2 }
      const token = await signJwsOffThread(alg, privateKey, header, payload)
      const here = signJws(alg, privateKey, header, payload)
      // Header and claims byte for byte; ECDSA signatures are randomized, RSA and EdDSA are not.
      expect(token.split('.').slice(0, 2)).toEqual(here.split('.').slice(0, 2))
      if (alg !== 'ES256') expect(token).toBe(here)
      expect(decodeProtectedHeader(token)).toEqual({ ...header, alg })
      const key = await importSPKI(publicKey.export({ format: 'pem', type: 'spki' }) as string, alg)
      const verified = await compactVerify(token, key)
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(payload)
      // Twice with the same key: the imported WebCrypto key is reused.
      expect(await signJwsOffThread(alg, privateKey, header, payload)).toStartWith(token.split('.')[0]!)
    })
  }
})
