import type { AnyElysia } from 'elysia'
import { sha256Hex } from './crypto/secrets'
import { createBapi } from './http/bapi'
import { errorResponse, limitBody, rewriteMethod, traceIdFor } from './http/dispatch'
import { openApiDocument } from './http/docs/openapi'
import { referencePage } from './http/docs/page'
import { createFapi } from './http/fapi'
import { checkOrigin, finishFapiResponse, preflight } from './http/fapi/edge'
import { authenticationInvalid, environmentNotFound, routeNotFound } from './http/shared/errors'
import { createRateLimiter, FAPI_RATE_RULES } from './http/shared/rate-limit'
import { type RequestState, type Surface, setRequestState } from './http/shared/request-state'
import { createWellKnown } from './http/wellknown'
import type { Clock } from './lib/clock'
import type { AccessLog, Logger } from './log'
import { verifySecretKey } from './tenancy/env-store'
import type { EnvPool } from './tenancy/pool'
import type { Registry } from './tenancy/registry'

export interface ServerDeps {
  registry: Registry
  pool: EnvPool
  clock: Clock
  log: Logger
  access: AccessLog
  maxBodyBytes: number
  /** Per-IP limits on sign-in/sign-up creation and challenge answers (tests turn them off). */
  rateLimits?: boolean
}

export interface Server {
  handle(request: Request, ip?: string | null): Promise<Response>
  /** Resolves once no request is in flight. */
  idle(): Promise<void>
  readonly inFlight: number
}

const SECRET_KEY = /^sk_(test|live)_[A-Za-z0-9_-]{20,100}$/

/**
 * The dispatcher: picks the surface and the environment for each request, then hands it to
 * that surface's Elysia app. No port is opened here; main.ts and the tests call handle().
 */
export function createServer(deps: ServerDeps): Server {
  const apps = { bapi: createBapi(), fapi: createFapi(), wellknown: createWellKnown() }
  const docs = createDocs(apps)
  const limiter = createRateLimiter(FAPI_RATE_RULES)
  let inFlight = 0
  let idleWaiters: Array<() => void> = []

  function leaseByHost(url: URL, state: RequestState): boolean {
    const envId = deps.registry.envForHost(url.hostname)
    const lease = envId ? deps.pool.lease(envId) : null
    if (!lease) return false
    state.lease = lease
    return true
  }

  /** BAPI: the key's hash finds the env in the index; the env's own file must agree. */
  function leaseBySecretKey(authorization: string | null, state: RequestState) {
    const secret = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : ''
    if (!SECRET_KEY.test(secret)) throw authenticationInvalid()
    const hash = sha256Hex(secret)
    const envId = deps.registry.envForKeyHash(hash)
    const lease = envId ? deps.pool.lease(envId) : null
    if (!lease) throw authenticationInvalid()
    state.lease = lease
    if (!verifySecretKey(lease.ctx, secret, hash)) throw authenticationInvalid()
  }

  async function route(request: Request, url: URL, state: RequestState): Promise<Response> {
    const path = url.pathname
    const doc = docs.get(path)
    if (doc && request.method === 'GET') {
      state.surface = 'docs'
      return doc()
    }
    let surface: Surface
    if (path.startsWith('/.well-known/')) {
      surface = 'wellknown'
      if (!leaseByHost(url, state)) throw environmentNotFound()
    } else if (path === '/v1' || path.startsWith('/v1/')) {
      const authorization = request.headers.get('authorization')
      if (authorization?.startsWith('Bearer sk_')) {
        surface = 'bapi'
        leaseBySecretKey(authorization, state)
      } else if (leaseByHost(url, state)) {
        surface = 'fapi'
        state.surface = 'fapi'
        request = rewriteMethod(request, url, state)
        state.request = request
        const ctx = state.lease!.ctx
        if (request.method === 'OPTIONS') return preflight(ctx, request, state)
        checkOrigin(ctx, request, state)
        if (deps.rateLimits !== false) limiter.check(ctx.id, request.method, url.pathname, state.ip)
      } else {
        // Not a frontend host, so this can only be a Backend API call without its key.
        throw authenticationInvalid()
      }
    } else {
      throw routeNotFound()
    }
    state.surface = surface
    request = await limitBody(request, deps.maxBodyBytes, state)
    if (surface === 'fapi') state.request = request
    return apps[surface].handle(request)
  }

  return {
    async handle(request, ip = null) {
      inFlight++
      const url = new URL(request.url)
      const state: RequestState = {
        traceId: traceIdFor(request),
        ip,
        startedAt: performance.now(),
        method: request.method,
        path: url.pathname,
        log: deps.log,
        frontendUrl: `${request.headers.get('x-forwarded-proto') === 'https' ? 'https' : url.protocol.slice(0, -1)}://${url.host}`,
      }
      setRequestState(request, state)
      let response: Response
      try {
        try {
          response = await route(request, url, state)
        } catch (err) {
          response = errorResponse(err, state)
        }
        // FAPI answers, errors included, carry CORS headers and any new client token.
        if (state.surface === 'fapi' && state.lease) {
          await finishFapiResponse(state.lease.ctx, state.request ?? request, state, response)
        }
      } catch (err) {
        response = errorResponse(err, state)
      } finally {
        state.lease?.release()
        if (--inFlight === 0) {
          for (const w of idleWaiters) w()
          idleWaiters = []
        }
      }
      response.headers.set('x-trace-id', state.traceId)
      deps.access({
        trace_id: state.traceId,
        method: state.method,
        path: state.path,
        status: response.status,
        ms: Math.round((performance.now() - state.startedAt) * 100) / 100,
        surface: state.surface,
        env_id: state.lease?.ctx.id,
        ip,
      })
      return response
    },
    idle: () =>
      inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    get inFlight() {
      return inFlight
    },
  }
}

/** /openapi/bapi.json, /openapi/fapi.json and the /docs page, answered on every host. */
function createDocs(apps: Record<'bapi' | 'fapi' | 'wellknown', AnyElysia>) {
  const once = <T>(make: () => T) => {
    let v: T | undefined
    return () => (v ??= make())
  }
  const bapi = once(() =>
    JSON.stringify(
      openApiDocument([apps.bapi], {
        title: 'authn Backend API',
        description:
          'Server-to-server API of one environment, authenticated with its secret key (Authorization: Bearer sk_…).',
        security: 'secretKey',
      }),
    ),
  )
  const fapi = once(() =>
    JSON.stringify(
      openApiDocument([apps.fapi, apps.wellknown], {
        title: 'authn Frontend API',
        description:
          "Everything served on an environment's frontend host: the browser API, /.well-known, OAuth, SCIM and SSO endpoints.",
      }),
    ),
  )
  const page = once(() =>
    referencePage([
      { doc: JSON.parse(bapi()), anchor: 'bapi', url: '/openapi/bapi.json' },
      { doc: JSON.parse(fapi()), anchor: 'fapi', url: '/openapi/fapi.json' },
    ]),
  )
  const json = (body: string) =>
    new Response(body, {
      headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
    })
  return new Map<string, () => Response>([
    ['/openapi/bapi.json', () => json(bapi())],
    ['/openapi/fapi.json', () => json(fapi())],
    ['/docs', () => new Response(page(), { headers: { 'content-type': 'text/html; charset=utf-8' } })],
  ])
}
