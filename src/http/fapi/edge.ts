import { clientToken } from '../../domain/clients/service'
import { isAllowedOrigin } from '../../domain/redirects/service'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { isLocalHost } from '../../tenancy/pool'
import type { CorsEdge } from '../cors'
import type { RequestState } from '../shared/request-state'
import { CLIENT_COOKIE } from './actor'

/** Browsers keep cookies at most ~400 days; the session rows decide what is signed in. */
const COOKIE_MAX_AGE_S = 365 * 86400
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

const originInvalid = () =>
  new AppError(403, [
    {
      code: 'origin_invalid',
      message: 'origin not allowed',
      long_message: 'This origin may not call the Frontend API of this instance.',
    },
  ])

/** A cross-origin mutation from an origin the env does not allow is refused (CSRF). */
export function checkOrigin(ctx: EnvContext, request: Request, state: RequestState) {
  const origin = request.headers.get('origin')
  if (!origin || SAFE.has(request.method)) return
  if (!isAllowedOrigin(ctx, origin, state.frontendUrl!)) throw originInvalid()
}

/**
 * Preflight answer: the methods and headers an allowed origin may use. The origin, credentials
 * and Vary headers are added by fapiCorsHeaders, as on every FAPI answer.
 */
export function preflight(ctx: EnvContext, request: Request, state: RequestState): Response {
  const origin = request.headers.get('origin')
  const headers = new Headers()
  if (origin && isAllowedOrigin(ctx, origin, state.frontendUrl!)) {
    headers.set('access-control-allow-methods', 'GET, POST, PATCH, PUT, DELETE')
    headers.set(
      'access-control-allow-headers',
      request.headers.get('access-control-request-headers') ?? 'authorization, content-type',
    )
    headers.set('access-control-max-age', '600')
  }
  return new Response(null, { status: 204, headers })
}

/** CORS headers for an allowed origin, on every FAPI answer (error responses included). */
export function fapiCorsHeaders(ctx: EnvContext, request: Request, state: RequestState, response: Response) {
  const origin = request.headers.get('origin')
  // The answer depends on the Origin whether or not it is allowed.
  if (origin) response.headers.append('vary', 'Origin')
  if (origin && isAllowedOrigin(ctx, origin, state.frontendUrl!)) {
    response.headers.set('access-control-allow-origin', origin)
    response.headers.set('access-control-allow-credentials', 'true')
    response.headers.set('access-control-expose-headers', 'authorization, x-trace-id, retry-after')
  }
}

/**
 * The FAPI origin policy ('fapi-origins'): the env's allowed origins (its own frontend and the
 * origins configured for it) may call with credentials; mutations from any other origin are
 * refused with 403 origin_invalid.
 */
export const fapiOrigins: CorsEdge = {
  preflight: (request, state) => (state.lease ? preflight(state.lease.ctx, request, state) : null),
  check(request, state) {
    if (state.lease) checkOrigin(state.lease.ctx, request, state)
  },
  decorate(request, state, response) {
    if (state.lease) fapiCorsHeaders(state.lease.ctx, request, state, response)
  },
}

/**
 * After a FAPI route, errors included: the client token when the route made or rotated the
 * client; a cookie for browsers, the Authorization response header for native apps.
 */
export function sendClientToken(_request: Request, state: RequestState, response: Response) {
  const ctx = state.lease?.ctx
  const actor = state.fapi?.actor
  if (!ctx || !actor?.rotatedSecret || !actor.client) return
  const token = clientToken(ctx, actor.client.id, actor.rotatedSecret)
  if (state.fapi?.native) {
    response.headers.set('authorization', token)
    return
  }
  const secure = !isLocalHost(new URL(state.frontendUrl!).hostname)
  response.headers.append(
    'set-cookie',
    `${CLIENT_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_MAX_AGE_S}${secure ? '; Secure' : ''}`,
  )
}
