import { sha256Hex } from './crypto/secrets'
import { rewriteAlias } from './http/aliases'
import { limitBody, rewriteMethod, traceIdFor } from './http/dispatch'
import { createClientAddressing } from './http/shared/client-address'
import { authenticationInvalid, environmentNotFound, routeNotFound } from './http/shared/errors'
import { clerkErrorResponse, exactJsonType, type Presenter } from './http/shared/presenter'
import { createRateLimiter, type RateStore } from './http/shared/rate-limit'
import { type RequestState, setRequestState } from './http/shared/request-state'
import { CORS, defaultSurfaces, pickSurface, type Surface } from './http/surfaces'
import type { Clock } from './lib/clock'
import { AppError } from './lib/errors'
import type { AccessLog, Logger } from './log'
import type { OpsEndpoints } from './ops/health'
import type { Metrics } from './ops/metrics'
import { servesHost, verifySecretKey } from './tenancy/env-store'
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
  /** Where the limits count; in memory (one process) when unset. */
  rateStore?: RateStore
  /**
   * Reverse proxies (IPs, CIDR ranges) whose X-Forwarded-For and X-Forwarded-Proto are believed
   * (AUTHN_TRUSTED_PROXIES); unset or empty: the socket's peer is the client.
   */
  trustedProxies?: readonly string[]
  /** The dispatch table, in order; defaultSurfaces() when unset. */
  surfaces?: readonly Surface[]
  /** /healthz, /readyz, /metrics: answered on any host, before the surface table. */
  ops?: OpsEndpoints
  /** Told of every answered request (surface, route template, status, latency). */
  metrics?: Metrics
}

export interface Server {
  /** `peer`: the socket's remote address (Bun's requestIP); the client's unless a trusted proxy. */
  handle(request: Request, peer?: string | null): Response | Promise<Response>
  /** Resolves once no request is in flight. */
  idle(): Promise<void>
  /**
   * Shutdown, once the listener has closed: a request that still arrives (on a kept-alive
   * connection) is answered 503 `server_shutting_down` with `Connection: close`, so the
   * client retries elsewhere; requests already in flight finish as usual.
   */
  refuseNew(): void
  readonly inFlight: number
}

const SECRET_KEY = /^sk_(test|live)_[A-Za-z0-9_-]{20,100}$/

const shuttingDown = () =>
  new AppError(
    503,
    [
      {
        code: 'server_shutting_down',
        message: 'server shutting down',
        long_message: 'This server is shutting down. Retry the request; another server will answer it.',
      },
    ],
    { headers: { 'retry-after': '1', connection: 'close' } },
  )

/**
 * The dispatcher: picks the surface from the table (src/http/surfaces.ts) and binds the
 * environment for each request, runs the surface's edge (method override, origin policy, rate
 * limits, body policy), hands the request to the surface's app and presents errors in the
 * surface's format. No port is opened here; main.ts and the tests call handle().
 */
export function createServer(deps: ServerDeps): Server {
  const table = deps.surfaces ?? defaultSurfaces()
  const limiters = new Map<Surface, ReturnType<typeof createRateLimiter>>()
  for (const s of table)
    if (s.edge.rateLimits?.length)
      limiters.set(
        s,
        createRateLimiter(s.edge.rateLimits, () => deps.clock.now(), deps.rateStore),
      )
  const addressing = createClientAddressing(deps.trustedProxies ?? [])
  let inFlight = 0
  let refusing = false
  let idleWaiters: Array<() => void> = []

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

  function bindEnv(surface: Surface, request: Request, url: URL, state: RequestState) {
    if (surface.env === 'secret-key') return leaseBySecretKey(request.headers.get('authorization'), state)
    if (surface.env === 'host') {
      const envId = deps.registry.envForHost(url.hostname)
      const lease = envId ? deps.pool.lease(envId) : null
      if (!lease) throw (surface.unknownEnv ?? environmentNotFound)()
      state.lease = lease
      // The index only said where to look: the env's own file must name the host.
      if (!servesHost(lease.ctx, url.hostname)) throw (surface.unknownEnv ?? environmentNotFound)()
    }
  }

  /**
   * Binds the env, runs the surface's edge and its app. Throws what its presenter shows. A lane's
   * answer comes back as it is: when it is not a promise, the hottest routes skip the awaits.
   */
  function serve(
    surface: Surface,
    received: Request,
    url: URL,
    state: RequestState,
  ): Response | Promise<Response> {
    let request = received
    bindEnv(surface, request, url, state)
    state.surface = surface.name
    const { edge } = surface
    if (edge.methodOverride || edge.clientParams)
      request = rewriteMethod(request, url, state, edge.clientParams)
    if (edge.pathAliases) request = rewriteAlias(request, edge.pathAliases, state)
    state.request = request
    const cors = CORS[edge.cors]
    if (request.method === 'OPTIONS') {
      const answer = cors.preflight(request, state)
      if (answer) return answer
    }
    cors.check(request, state)
    if (deps.rateLimits !== false) {
      limiters.get(surface)?.check(state.lease?.ctx.id ?? '-', request.method, url.pathname, state.ip)
    }
    if (surface.lanes && request.body === null) {
      const path = request === received ? url.pathname : new URL(request.url).pathname
      for (const lane of surface.lanes) {
        if (lane.method !== request.method) continue
        const answer = lane.answer(request, path, state)
        if (answer) {
          state.route = lane.route
          return answer
        }
      }
    }
    return answerWithApp(surface, request, state)
  }

  async function answerWithApp(surface: Surface, request: Request, state: RequestState) {
    const limited = await limitBody(request, surface.edge.body, deps.maxBodyBytes, state)
    state.request = limited
    return surface.app.handle(limited)
  }

  /** CORS headers and the surface's own finishing touches, on errors too, once bound. */
  function finish(surface: Surface, state: RequestState, received: Request, response: Response) {
    const request = state.request ?? received
    CORS[surface.edge.cors].decorate(request, state, response)
    return surface.edge.finish?.(request, state, response)
  }

  /** Releases what the request held and records it: the last step of every answer. */
  function done(response: Response, state: RequestState): Response {
    try {
      response.headers.set('x-trace-id', state.traceId)
      exactJsonType(response)
      const ms = performance.now() - state.startedAt
      deps.access({
        trace_id: state.traceId,
        method: state.method,
        path: state.path,
        status: response.status,
        ms: Math.round(ms * 100) / 100,
        surface: state.surface,
        env_id: state.lease?.ctx.id,
        ip: state.ip,
      })
      deps.metrics?.request({
        surface: state.surface ?? 'none',
        route: state.route ?? '(no route)',
        method: state.method,
        status: response.status,
        seconds: ms / 1000,
      })
      return response
    } finally {
      state.lease?.release()
      if (--inFlight === 0) {
        for (const w of idleWaiters) w()
        idleWaiters = []
      }
    }
  }

  /** The surface's finishing touches (CORS, its own), then done(); errors are presented. */
  function complete(
    surface: Surface | undefined,
    present: Presenter,
    received: Request,
    state: RequestState,
    response: Response,
  ): Response | Promise<Response> {
    let finished: unknown
    try {
      if (surface && state.surface) finished = finish(surface, state, received, response)
    } catch (err) {
      return done(present(err, state), state)
    }
    if (finished instanceof Promise) {
      return finished.then(
        () => done(response, state),
        (err) => done(present(err, state), state),
      )
    }
    return done(response, state)
  }

  return {
    // Not an async function: an answer ready at once (a lane's, an error) goes back to Bun as a
    // Response, which it writes without a promise's round trip.
    handle(request, peer = null) {
      const url = new URL(request.url)
      if (deps.ops?.matches(url.pathname)) return deps.ops.handle(request, url.pathname)
      inFlight++
      // `peer` is the socket's address; the client may be behind a trusted proxy.
      const client = addressing.resolve(peer, request.headers)
      const state: RequestState = {
        traceId: traceIdFor(request),
        ip: client.ip,
        startedAt: performance.now(),
        method: request.method,
        path: url.pathname,
        log: deps.log,
        frontendUrl: `${client.proto ?? url.protocol.slice(0, -1)}://${url.host}`,
      }
      setRequestState(request, state)
      const surface = pickSurface(table, url.pathname, request.method, request.headers.get('authorization'))
      const present = surface?.present ?? clerkErrorResponse
      let answer: Response | Promise<Response>
      try {
        if (!surface) throw routeNotFound()
        if (refusing) throw shuttingDown()
        answer = serve(surface, request, url, state)
      } catch (err) {
        answer = present(err, state)
      }
      if (answer instanceof Promise) {
        return answer.then(
          (response) => complete(surface, present, request, state, response),
          (err) => complete(surface, present, request, state, present(err, state)),
        )
      }
      return complete(surface, present, request, state, answer)
    },
    idle: () =>
      inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    refuseNew() {
      refusing = true
    },
    get inFlight() {
      return inFlight
    },
  }
}
