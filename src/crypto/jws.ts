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

/** WebCrypto's names for the env key algorithms it signs; EdDSA stays on signJws. */
type ImportParams = Parameters<typeof crypto.subtle.importKey>[2]
type SignParams = Parameters<typeof crypto.subtle.sign>[0]
const WEBCRYPTO: Partial<Record<JwsAlgorithm, { key: ImportParams; sign: SignParams }>> = {
  ES256: { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: 'RSASSA-PKCS1-v1_5' },
}
const webCryptoKeys = new WeakMap<KeyObject, Promise<CryptoKey>>()
/** Keys WebCrypto failed with: signed on the calling thread from then on. */
const refusedByWebCrypto = new WeakSet<KeyObject>()

/**
 * signJws with the signature computed on Bun's worker threads (WebCrypto): the JS thread goes on
 * to the next request meanwhile, so one server process uses more than one core. argon2 runs on
 * the same threads, and a signature queued behind a hash waits for it: callers use this only
 * while no password is being hashed (PasswordHasher.idle). Same header, claims and signature
 * encoding as signJws (ECDSA signatures in WebCrypto are r||s, as JWS wants).
 */
export async function signJwsOffThread(
  alg: JwsAlgorithm,
  key: KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const params = WEBCRYPTO[alg]
  if (!params || refusedByWebCrypto.has(key)) return signJws(alg, key, header, payload)
  let imported = webCryptoKeys.get(key)
  if (!imported) {
    imported = crypto.subtle.importKey(
      'pkcs8',
      key.export({ format: 'der', type: 'pkcs8' }),
      params.key,
      false,
      ['sign'],
    )
    webCryptoKeys.set(key, imported)
  }
  const input = `${b64url(JSON.stringify({ ...header, alg }))}.${b64url(JSON.stringify(payload))}`
  try {
    const signature = await crypto.subtle.sign(params.sign, await imported, Buffer.from(input))
    return `${input}.${b64url(new Uint8Array(signature))}`
  } catch {
    // A key WebCrypto will not take (none known: node:crypto made it) is still the env's key:
    // the token is signed here, as are its next ones.
    refusedByWebCrypto.add(key)
    return signJws(alg, key, header, payload)
  }
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
