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

/** Is `origin` (a request's Origin header) allowed to call the Frontend API with credentials? */
export function isAllowedOrigin(ctx: EnvContext, origin: string, frontendUrl: string): boolean {
  if (origin === new URL(frontendUrl).origin) return true
  if (ctx.settings().allowed_origins.includes(origin)) return true
  if (ctx.type !== 'development') return false
  try {
    const u = new URL(origin)
    return u.protocol === 'http:' && (isLocalHost(u.hostname) || u.hostname === '127.0.0.1')
  } catch {
    return false
  }
}
