import { createHash, randomBytes, verify } from 'node:crypto'
import { signJws } from '../../crypto/jws'
import type { SigningKey } from '../../crypto/keys'
import type { EnvContext } from '../../tenancy/context'

/** Access tokens live an hour: they stay valid until `exp` for resource servers that verify them offline. */
export const ACCESS_TOKEN_TTL_S = 60 * 60
/** ID tokens: an hour. */
export const ID_TOKEN_TTL_S = 60 * 60

export const newJti = () => randomBytes(16).toString('base64url')

/** OIDC Core §3.1.3.6: the left half of the hash the signature algorithm uses, base64url. */
export function atHash(alg: SigningKey['alg'], accessToken: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken)
    .digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string
  client_id: string
  scope: string
  sid: string
  auth_time: number
  jti: string
  iat: number
  exp: number
}

/** RFC 9068 access token: `typ: at+jwt`, signed with the env's current key. */
export function signAccessToken(key: SigningKey, claims: AccessTokenClaims): string {
  return signJws(key.alg, key.privateKey, { kid: key.kid, typ: 'at+jwt' }, { ...claims, nbf: claims.iat })
}

export function signIdToken(key: SigningKey, claims: Record<string, unknown>): string {
  return signJws(key.alg, key.privateKey, { kid: key.kid, typ: 'JWT' }, claims)
}

const DIGEST: Record<SigningKey['alg'], string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

/**
 * An access token we signed: its signature checks out under one of the env's keys, its `typ`
 * is at+jwt, its issuer is this one and it has not expired. Anything else is null.
 */
export function readAccessToken(ctx: EnvContext, token: string, issuer: string): AccessTokenClaims | null {
  const parts = token.split('.')
  if (parts.length !== 3 || token.length > 8192) return null
  const [h, p, s] = parts as [string, string, string]
  let header: { alg?: string; kid?: string; typ?: string }
  let claims: AccessTokenClaims
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  if (header.typ !== 'at+jwt' || typeof header.kid !== 'string') return null
  const key = ctx.keys.all().find((k) => k.kid === header.kid)
  if (!key || key.alg !== header.alg) return null
  const data = Buffer.from(`${h}.${p}`)
  const sig = Buffer.from(s, 'base64url')
  const ok =
    key.alg === 'ES256'
      ? verify('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }, sig)
      : verify(DIGEST[key.alg], data, key.privateKey, sig)
  if (!ok) return null
  if (claims.iss !== issuer || typeof claims.exp !== 'number') return null
  if (claims.exp * 1000 <= ctx.clock.now()) return null
  return claims
}
