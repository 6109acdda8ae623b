import { hkdfSync } from 'node:crypto'
import { hs256, verifyHs256 } from './jws'
import type { DataKey } from './seal'
import { sha256Hex } from './secrets'

/**
 * The client token (cookie `__authn_client`, or a native app's bearer): an HS256 JWT carrying
 * the client id and its rotating secret. Only this server reads it, so it is MACed with a key
 * derived from the env's data key rather than signed with the env's public signing key: a
 * check costs a couple of microseconds on every Frontend API call.
 */
export interface ClientTokenClaims {
  cid: string
  rot: string
  /** sha256 of `rot`, as the client row stores it. */
  rotHash: string
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

export function signClientToken(
  dataKey: DataKey,
  claims: Pick<ClientTokenClaims, 'cid' | 'rot'>,
  nowMs: number,
): string {
  return hs256(macKey(dataKey), { sub: claims.cid, rot: claims.rot, iat: Math.floor(nowMs / 1000) })
}

/**
 * Tokens that verified, with the key they verified under. A token is a function of the key and
 * its claims, so the answer cannot go stale; the MAC, two base64url decodes, two JSON parses and
 * the secret's hash would otherwise be paid on every refresh of every tab. Bounded across all
 * envs of the process (oldest first out): a few MB at most.
 */
const verified = new Map<string, { dataKey: DataKey; claims: Readonly<ClientTokenClaims> }>()
export const VERIFIED_TOKENS_KEPT = 16_384

/** Null for anything that is not a client token of this env. */
export function verifyClientToken(dataKey: DataKey, token: string): Readonly<ClientTokenClaims> | null {
  const known = verified.get(token)
  if (known?.dataKey === dataKey) return known.claims
  const payload = verifyHs256(macKey(dataKey), token)
  if (!payload || typeof payload.sub !== 'string' || typeof payload.rot !== 'string') return null
  const claims = Object.freeze({ cid: payload.sub, rot: payload.rot, rotHash: sha256Hex(payload.rot) })
  if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value as string)
  verified.set(token, { dataKey, claims })
  return claims
}
