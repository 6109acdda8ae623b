import { randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 bits of randomness, base62-free base64url text: for keys, tokens, codes we only compare. */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url')

export const sha256Hex = (value: string): string => Bun.SHA256.hash(value, 'hex')

/** Constant-time equality for strings of any length (lengths leak, contents do not). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab)
    return false
  }
  return timingSafeEqual(ab, bb)
}
