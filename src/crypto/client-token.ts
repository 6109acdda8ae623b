import { hkdfSync } from 'node:crypto'
import { jwtVerify, SignJWT } from 'jose'
import type { DataKey } from './seal'

/**
 * The client token (cookie `__authn_client`, or a native app's bearer): an HS256 JWT carrying
 * the client id and its rotating secret. Only this server reads it, so it is MACed with a key
 * derived from the env's data key rather than signed with the env's public signing key: a
 * verification then costs microseconds on every Frontend API call.
 */
export interface ClientTokenClaims {
  cid: string
  rot: string
}

const keys = new WeakMap<DataKey, Uint8Array>()
function macKey(dataKey: DataKey): Uint8Array {
  let key = keys.get(dataKey)
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', dataKey.key, new Uint8Array(0), 'authn client token v1', 32))
    keys.set(dataKey, key)
  }
  return key
}

export function signClientToken(dataKey: DataKey, claims: ClientTokenClaims, nowMs: number): Promise<string> {
  return new SignJWT({ rot: claims.rot })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.cid)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .sign(macKey(dataKey))
}

/** Null for anything that is not a client token of this env. */
export async function verifyClientToken(dataKey: DataKey, token: string): Promise<ClientTokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, macKey(dataKey), { algorithms: ['HS256'] })
    if (typeof payload.sub !== 'string' || typeof payload.rot !== 'string') return null
    return { cid: payload.sub, rot: payload.rot }
  } catch {
    return null
  }
}
