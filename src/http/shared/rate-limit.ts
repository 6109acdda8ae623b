import { AppError } from '../../lib/errors'
import { rateKeyOf } from './client-address'

export interface RateRule {
  method: string
  path: RegExp
  bucket: string
  limit: number
  windowMs: number
}

/** A fixed window's state after counting one more request in it. */
export interface RateWindow {
  start: number
  count: number
}

/**
 * Where the windows live. The server's is a SQLite file in the data root
 * (src/tenancy/rate-windows.ts), so the workers of one server share the counts; this one, in
 * memory, serves a single process (tests, the harness).
 */
export interface RateStore {
  /** Counts one request under `key`, opening a new window when the current one has ended. */
  hit(key: string, now: number, windowMs: number): RateWindow
}

export function memoryRateStore(): RateStore {
  const windows = new Map<string, RateWindow>()
  let sweptAt = 0
  return {
    hit(key, now, windowMs) {
      // Old windows are swept as time passes, so the map holds only recent clients.
      if (now - sweptAt > 60_000) {
        for (const [k, w] of windows) if (now - w.start > 60_000) windows.delete(k)
        sweptAt = now
      }
      let w = windows.get(key)
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 }
        windows.set(key, w)
      }
      w.count++
      return { start: w.start, count: w.count }
    },
  }
}

/**
 * Fixed-window counters per (env, bucket, client). A client is its IPv4 address or its IPv6 /64
 * (rateKeyOf); behind a reverse proxy the server passes the address the trusted proxies
 * forwarded (client-address.ts).
 */
export function createRateLimiter(
  rules: readonly RateRule[],
  now: () => number = Date.now,
  store: RateStore = memoryRateStore(),
) {
  return {
    /** Throws 429 with Retry-After when the request is over its bucket's limit. */
    check(envId: string, method: string, path: string, ip: string | null) {
      // Routes answer with or without a trailing slash; the limits must too.
      const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path
      const rule = rules.find((r) => r.method === method && r.path.test(normalized))
      if (!rule) return
      const t = now()
      const w = store.hit(`${envId}|${rule.bucket}|${rateKeyOf(ip)}`, t, rule.windowMs)
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

/**
 * The OAuth provider's machine endpoints, per client IP (RFC 6749 error bodies, Retry-After).
 * The token endpoint is generous: one relying party's server refreshes for all its users from
 * one address. Dynamic registration is a few per minute: a client registers once per install.
 * Windows stay within a minute (the window stores sweep anything older).
 */
export const OAUTH_RATE_RULES: RateRule[] = [
  { method: 'POST', path: /^\/oauth\/token$/, bucket: 'oauth.token', limit: 100, windowMs: 10_000 },
  { method: 'POST', path: /^\/oauth\/register$/, bucket: 'oauth.register', limit: 5, windowMs: 60_000 },
]

/**
 * The hosted sign-in page of the authorization endpoint runs the sign-in machine itself (not
 * through the Frontend API), so its form posts are limited per IP too: each step (identify,
 * send a code, answer) is one post, and a person needs a few per 10 s.
 */
export const OAUTH_PAGE_RATE_RULES: RateRule[] = [
  { method: 'POST', path: /^\/oauth\/sign-in$/, bucket: 'oauth.sign_in', limit: 10, windowMs: 10_000 },
]
