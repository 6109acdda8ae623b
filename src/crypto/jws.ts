import { constants, createHmac, type KeyObject, sign } from 'node:crypto'
import { constantTimeEqual } from './secrets'

/**
 * Compact JWS with node:crypto, synchronously on the calling thread. jose goes through
 * WebCrypto, whose jobs share Bun's worker threads with argon2: during a burst of password
 * hashing every token refresh waited behind a hash (hundreds of ms). A signature here costs
 * tens of microseconds (ES256, EdDSA, HS256) to under a millisecond (RS256).
 */
const b64url = (data: string | Uint8Array) => Buffer.from(data).toString('base64url')

export type JwsAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

/** Every algorithm a JWT template may sign with (RFC 7518 §3.1, plus EdDSA). */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'

const digestOf = (alg: string) => `sha${alg.slice(2)}`

function signature(alg: JwtAlgorithm, key: KeyObject | Uint8Array, data: Buffer): Buffer {
  if (alg.startsWith('HS'))
    return createHmac(digestOf(alg), key as Uint8Array)
      .update(data)
      .digest()
  const k = key as KeyObject
  if (alg.startsWith('RS')) return sign(digestOf(alg), data, k)
  if (alg.startsWith('PS')) {
    // RFC 7518 §3.5: the salt is as long as the hash output.
    const saltLength = Number(alg.slice(2)) / 8
    return sign(digestOf(alg), data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
  }
  if (alg.startsWith('ES')) return sign(digestOf(alg), data, { key: k, dsaEncoding: 'ieee-p1363' })
  return sign(null, data, k)
}

/**
 * The one way a JWT is signed: the env's keys (RS256, ES256, EdDSA) and customers' template keys
 * (HMAC secrets and PEM private keys) alike. `alg` goes into the header.
 */
export function signJwt(
  alg: JwtAlgorithm,
  key: KeyObject | Uint8Array,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64url(JSON.stringify({ ...header, alg }))}.${b64url(JSON.stringify(payload))}`
  return `${input}.${b64url(signature(alg, key, Buffer.from(input)))}`
}

/** Signs with an env signing key (session tokens, handshakes). */
export const signJws = (
  alg: JwsAlgorithm,
  key: KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string => signJwt(alg, key, header, payload)

export function hs256(secret: Uint8Array, payload: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** The payload of an HS256 token MACed with `secret`, or null. */
export function verifyHs256(secret: Uint8Array, token: string): Record<string, unknown> | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  const [h, p, mac] = parts as [string, string, string]
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  if (!constantTimeEqual(expected, mac)) return null
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown }
    if (header.alg !== 'HS256') return null
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : null
  } catch {
    return null
  }
}
