import { AppError } from '../../lib/errors'
import { rateKeyOf } from './client-address'

export interface RateRule {
  method: string
  path: RegExp
  bucket: string
  limit: number
  windowMs: number
}

/**
 * Fixed-window counters per (env, bucket, client), in memory: one process owns its envs, so the
 * counts are complete. Old windows are swept as they are replaced. A client is its IPv4 address
 * or its IPv6 /64 (rateKeyOf); behind a reverse proxy the server passes the address the trusted
 * proxies forwarded (client-address.ts).
 */
export function createRateLimiter(rules: readonly RateRule[], now: () => number = Date.now) {
  const windows = new Map<string, { start: number; count: number }>()
  let sweptAt = 0
  return {
    /** Throws 429 with Retry-After when the request is over its bucket's limit. */
    check(envId: string, method: string, path: string, ip: string | null) {
      // Routes answer with or without a trailing slash; the limits must too.
      const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path
      const rule = rules.find((r) => r.method === method && r.path.test(normalized))
      if (!rule) return
      const t = now()
      if (t - sweptAt > 60_000) {
        for (const [k, w] of windows) if (t - w.start > 60_000) windows.delete(k)
        sweptAt = t
      }
      const key = `${envId}|${rule.bucket}|${rateKeyOf(ip)}`
      let w = windows.get(key)
      if (!w || t - w.start >= rule.windowMs) {
        w = { start: t, count: 0 }
        windows.set(key, w)
      }
      w.count++
      if (w.count > rule.limit) {
        const retry = Math.max(1, Math.ceil((w.start + rule.windowMs - t) / 1000))
        throw new AppError(
          429,
          [
            {
              code: 'too_many_requests',
              message: 'too many requests',
              long_message: `Too many requests. Retry in ${retry} seconds.`,
            },
          ],
          { headers: { 'retry-after': String(retry) } },
        )
      }
    },
  }
}

/** clerk-surface §12: creating sign-ins/sign-ups 5 per 10 s per IP, answering challenges 3 per 10 s. */
export const FAPI_RATE_RULES: RateRule[] = [
  { method: 'POST', path: /^\/v1\/client\/sign-ins$/, bucket: 'sign_in.create', limit: 5, windowMs: 10_000 },
  { method: 'POST', path: /^\/v1\/client\/sign-ups$/, bucket: 'sign_up.create', limit: 5, windowMs: 10_000 },
  {
    method: 'POST',
    path: /^\/v1\/client\/sign-ins\/[^/]+\/challenges\/[^/]+\/answer$/,
    bucket: 'sign_in.answer',
    limit: 3,
    windowMs: 10_000,
  },
  {
    method: 'POST',
    path: /^\/v1\/client\/sign-ups\/[^/]+\/challenges\/[^/]+\/answer$/,
    bucket: 'sign_up.answer',
    limit: 3,
    windowMs: 10_000,
  },
  {
    method: 'POST',
    path: /^\/v1\/me\/(email-addresses|phone-numbers)\/[^/]+\/challenges\/[^/]+\/answer$/,
    bucket: 'me.answer',
    limit: 3,
    windowMs: 10_000,
  },
  // The current password is guessed like any first factor.
  {
    method: 'POST',
    path: /^\/v1\/me\/change-password$/,
    bucket: 'me.change_password',
    limit: 3,
    windowMs: 10_000,
  },
]
