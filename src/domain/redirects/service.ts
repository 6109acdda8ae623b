import { formError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { isLocalHost } from '../../tenancy/pool'

/**
 * Where a flow may send a browser back to: an allowed origin, a URL under an allow-listed
 * redirect URL, the env's own frontend origin, and (development envs) any localhost origin.
 */
export function isAllowedRedirect(ctx: EnvContext, raw: string, frontendUrl: string): boolean {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  if (['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)) return false
  const settings = ctx.settings()
  if (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    settings.allowed_origins.includes(url.origin)
  )
    return true
  if (url.origin === new URL(frontendUrl).origin) return true
  if (ctx.type === 'development' && url.protocol === 'http:' && isLocalHost(url.hostname)) return true
  if (ctx.type === 'development' && url.hostname === '127.0.0.1') return true
  return settings.redirect_urls.some(
    (allowed) =>
      raw === allowed ||
      raw.startsWith(allowed.endsWith('/') ? allowed : `${allowed}/`) ||
      raw.startsWith(`${allowed}?`),
  )
}

export function assertAllowedRedirect(
  ctx: EnvContext,
  raw: string,
  frontendUrl: string,
  param = 'redirect_url',
) {
  if (!isAllowedRedirect(ctx, raw, frontendUrl)) {
    throw formError(
      'invalid_redirect_url',
      param,
      'is not allowed',
      'The redirect URL is not an allowed origin or redirect URL of this instance.',
    )
  }
}

const isHttp = (raw: string) => {
  try {
    const { protocol } = new URL(raw)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

/**
 * A redirect kept to be followed later (an invitation's `redirect_url`, where
 * `/v1/tickets/accept` sends the browser): an http(s) URL (422 form_param_value_invalid
 * otherwise), and one the env allows (assertAllowedRedirect, against the env's own frontend URL
 * unless the caller has the request's).
 */
export function assertStoredRedirect(
  ctx: EnvContext,
  raw: string,
  frontendUrl = ctx.frontendUrl(),
  param = 'redirect_url',
) {
  if (!isHttp(raw)) {
    throw formError(
      'form_param_value_invalid',
      param,
      'must be an http(s) URL',
      'The redirect URL must be an http or https URL.',
    )
  }
  assertAllowedRedirect(ctx, raw, frontendUrl, param)
}

/**
 * A stored redirect checked again as a browser is sent there: rows stored before the check and
 * origins removed from the settings since must not be followed. Null when it is not allowed (now).
 */
export function storedRedirect(ctx: EnvContext, raw: string | null): string | null {
  return raw !== null && isHttp(raw) && isAllowedRedirect(ctx, raw, ctx.frontendUrl()) ? raw : null
}

/** Is `origin` (a request's Origin header) allowed to call the Frontend API with credentials? */
export function isAllowedOrigin(ctx: EnvContext, origin: string, frontendUrl: string): boolean {
  // Asked twice on every Frontend API call (the check and the CORS headers): parse only if needed.
  if (origin === frontendUrl || origin === new URL(frontendUrl).origin) return true
  if (ctx.settings().allowed_origins.includes(origin)) return true
  return ctx.type === 'development' && isLocalDevOrigin(origin)
}

const localDevOrigins = new Map<string, boolean>()
/** http://localhost[:port], http://*.localhost, http://127.0.0.1: remembered (a few per machine). */
function isLocalDevOrigin(origin: string): boolean {
  let local = localDevOrigins.get(origin)
  if (local === undefined) {
    try {
      const u = new URL(origin)
      local = u.protocol === 'http:' && (isLocalHost(u.hostname) || u.hostname === '127.0.0.1')
    } catch {
      local = false
    }
    // Origins are the caller's to choose: the memo stays small whatever they send.
    if (localDevOrigins.size >= 1024) localDevOrigins.clear()
    localDevOrigins.set(origin, local)
  }
  return local
}
