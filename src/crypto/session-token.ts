import { randomBytes } from 'node:crypto'
import { signJws, signJwsOffThread } from './jws'
import type { KeyStore } from './keys'

/** Session tokens live 60 s; clients refresh them about every 50 s. */
export const SESSION_TOKEN_LIFETIME_S = 60
/** `nbf` is set this far before `iat` to absorb verifiers' clock skew. */
export const SESSION_TOKEN_SKEW_S = 5

export interface SessionTokenInput {
  issuer: string
  userId: string
  sessionId: string
  /** The Origin of the request that minted it; omitted when there was none. */
  azp: string | null
  /** [minutes since first factor, minutes since second factor or -1]. */
  fva: [number, number]
  /** Set when the session is not plainly active (e.g. `pending`). */
  sts?: string
  org?: { id: string; slg: string; rol: string; per: string }
  act?: Record<string, unknown>
  nowMs: number
}

/** The session JWT's key, header and exactly the claims of clerk-surface §2.4. */
function sessionJws(keys: KeyStore, input: SessionTokenInput) {
  const key = keys.signingKey(input.nowMs)
  const iat = Math.floor(input.nowMs / 1000)
  const payload: Record<string, unknown> = {
    azp: input.azp ?? undefined,
    exp: iat + SESSION_TOKEN_LIFETIME_S,
    fva: input.fva,
    iat,
    iss: input.issuer,
    jti: randomBytes(10).toString('hex'),
    nbf: iat - SESSION_TOKEN_SKEW_S,
    o: input.org,
    sid: input.sessionId,
    sts: input.sts,
    sub: input.userId,
    v: 2,
    act: input.act,
  }
  return { key, header: { kid: key.kid, typ: 'JWT' }, payload }
}

/** Signs the session JWT on the calling thread. */
export function signSessionToken(keys: KeyStore, input: SessionTokenInput): string {
  const { key, header, payload } = sessionJws(keys, input)
  return signJws(key.alg, key.privateKey, header, payload)
}

/** The same token, signed on Bun's worker threads (signJwsOffThread: only while no password hashes). */
export function signSessionTokenOffThread(keys: KeyStore, input: SessionTokenInput): Promise<string> {
  const { key, header, payload } = sessionJws(keys, input)
  return signJwsOffThread(key.alg, key.privateKey, header, payload)
}
