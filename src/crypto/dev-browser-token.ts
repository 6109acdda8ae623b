import { hkdfSync } from 'node:crypto'
import { hs256, verifyHs256 } from './jws'
import type { DataKey } from './seal'

/**
 * A development browser's token (Clerk's `__clerk_db_jwt`): an HS256 JWT naming the dev
 * browser, MACed with a key derived from the env's data key. It identifies nothing by itself
 * (the client cookie does that); Clerk's server SDKs want one on development pages, and the
 * handshake checks that one it is handed is this env's.
 */
const keys = new WeakMap<DataKey, Uint8Array>()
function macKey(dataKey: DataKey): Uint8Array {
  let key = keys.get(dataKey)
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', dataKey.key, new Uint8Array(0), 'authn dev browser v1', 32))
    keys.set(dataKey, key)
  }
  return key
}

export const signDevBrowserToken = (dataKey: DataKey, id: string, nowMs: number) =>
  hs256(macKey(dataKey), { sub: id, iat: Math.floor(nowMs / 1000) })

/** The dev browser's id, or null for anything that is not a dev-browser token of this env. */
export function verifyDevBrowserToken(dataKey: DataKey, token: string): string | null {
  const payload = verifyHs256(macKey(dataKey), token)
  return payload && typeof payload.sub === 'string' && payload.sub.startsWith('dvb_') ? payload.sub : null
}
