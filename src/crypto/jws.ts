import { createHmac, type KeyObject, sign } from 'node:crypto'
import { constantTimeEqual } from './secrets'

/**
 * Compact JWS with node:crypto, synchronously on the calling thread. jose goes through
 * WebCrypto, whose jobs share Bun's worker threads with argon2: during a burst of password
 * hashing every token refresh waited behind a hash (hundreds of ms). A signature here costs
 * tens of microseconds (ES256, EdDSA, HS256) to under a millisecond (RS256).
 */
const b64url = (data: string | Uint8Array) => Buffer.from(data).toString('base64url')

export type JwsAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

export function signJws(
  alg: JwsAlgorithm,
  key: KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64url(JSON.stringify({ ...header, alg }))}.${b64url(JSON.stringify(payload))}`
  const data = Buffer.from(input)
  const signature =
    alg === 'RS256'
      ? sign('sha256', data, key)
      : alg === 'ES256'
        ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
        : sign(null, data, key)
  return `${input}.${b64url(signature)}`
}

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
