import { hkdfSync } from 'node:crypto'
import { hs256, verifyHs256 } from './jws'
import type { DataKey } from './seal'

/**
 * The client token (cookie `__authn_client`, or a native app's bearer): an HS256 JWT carrying
 * the client id and its rotating secret. Only this server reads it, so it is MACed with a key
 * derived from the env's data key rather than signed with the env's public signing key: a
 * check costs a couple of microseconds on every Frontend API call.
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

export function signClientToken(dataKey: DataKey, claims: ClientTokenClaims, nowMs: number): string {
  return hs256(macKey(dataKey), { sub: claims.cid, rot: claims.rot, iat: Math.floor(nowMs / 1000) })
}

/** Null for anything that is not a client token of this env. */
export function verifyClientToken(dataKey: DataKey, token: string): ClientTokenClaims | null {
  const payload = verifyHs256(macKey(dataKey), token)
  if (!payload || typeof payload.sub !== 'string' || typeof payload.rot !== 'string') return null
  return { cid: payload.sub, rot: payload.rot }
}
