import { createPrivateKey, type KeyObject } from 'node:crypto'

/**
 * Keys a customer brings for their own tokens (JWT templates): an HMAC secret for HS*, a PEM
 * private key for the others. Validated against the algorithm when stored, imported when used.
 */
export const CUSTOM_SIGNING_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const
export type CustomSigningAlgorithm = (typeof CUSTOM_SIGNING_ALGORITHMS)[number]

export class KeyMaterialError extends Error {
  override name = 'KeyMaterialError'
}

/** RFC 7518 §3.2: an HMAC key at least as long as the hash output (and never under 32 bytes). */
const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 }
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

function privateKeyFrom(material: string): KeyObject {
  if (!material.includes('-----BEGIN')) {
    throw new KeyMaterialError('expected a PEM-encoded private key (-----BEGIN PRIVATE KEY-----)')
  }
  try {
    return createPrivateKey({ key: material, format: 'pem' })
  } catch {
    throw new KeyMaterialError('is not an unencrypted PEM private key')
  }
}

/** The key jose signs with; throws KeyMaterialError when the material does not fit the algorithm. */
export function importCustomKey(alg: CustomSigningAlgorithm, material: string): KeyObject | Uint8Array {
  if (alg.startsWith('HS')) {
    const secret = new TextEncoder().encode(material)
    const min = HMAC_MIN_BYTES[alg]!
    if (material.includes('-----BEGIN'))
      throw new KeyMaterialError(`${alg} takes a shared secret, not a PEM key`)
    if (secret.length < min) throw new KeyMaterialError(`an ${alg} secret must be at least ${min} bytes`)
    return secret
  }
  const key = privateKeyFrom(material)
  const type = key.asymmetricKeyType
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    if (type !== 'rsa') throw new KeyMaterialError(`${alg} needs an RSA private key, got ${type}`)
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new KeyMaterialError(`${alg} needs an RSA key of at least 2048 bits, got ${bits}`)
  } else if (alg.startsWith('ES')) {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (type !== 'ec' || curve !== EC_CURVES[alg]) {
      const got = type === 'ec' ? `${CURVE_NAMES[curve ?? ''] ?? curve} EC key` : `${type} key`
      throw new KeyMaterialError(
        `${alg} needs a ${CURVE_NAMES[EC_CURVES[alg]!]} EC private key, got a ${got}`,
      )
    }
  } else if (type !== 'ed25519') {
    throw new KeyMaterialError(`EdDSA needs an Ed25519 private key, got ${type}`)
  }
  return key
}
