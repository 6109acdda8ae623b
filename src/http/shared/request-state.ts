import type { ClientActor } from '../../domain/clients/service'
import type { Logger } from '../../log'
import type { EnvContext } from '../../tenancy/context'
import type { Lease } from '../../tenancy/pool'

/**
 * The surface a request was dispatched to (the access log's `surface` field). oauth, scim and
 * browser (SAML ACS, OAuth/SSO callbacks, hosted pages) are entries the table has room for.
 */
export type SurfaceName = 'bapi' | 'fapi' | 'wellknown' | 'docs' | 'oauth' | 'scim' | 'browser'

/**
 * Per-request facts that must outlive Elysia's context: parse and not-found errors fire
 * before derive/resolve, so presenters read the trace id from here.
 */
export interface RequestState {
  traceId: string
  /** The client's address: the socket's peer, or what trusted proxies forwarded (client-address.ts). */
  ip: string | null
  startedAt: number
  method: string
  path: string
  /** Set once the request is bound to its surface (and env, if the surface has one). */
  surface?: SurfaceName
  /** The route template the surface's app matched (`/v1/users/:user_id`): the metrics' label. */
  route?: string
  lease?: Lease
  log: Logger
  /** scheme://host[:port] as the client reached us (X-Forwarded-Proto honoured from trusted proxies). */
  frontendUrl?: string
  /** Set by the FAPI actor plugin: the caller's client, and whether it is a native app. */
  fapi?: { actor: ClientActor; native: boolean }
  /** Query parameters an SDK sends about itself, taken out of the URL by the surface's edge. */
  clientParams?: Record<string, string>
  /** The request as the surface's app saw it (after `_method` rewrite or body buffering). */
  request?: Request
  /** The JSON body as the dispatcher parsed it (body policy 'must-parse'), for the app's parser. */
  json?: { value: unknown }
}

const states = new WeakMap<Request, RequestState>()

export const setRequestState = (request: Request, state: RequestState) => states.set(request, state)
export const requestState = (request: Request): RequestState | undefined => states.get(request)

/** The env leased for this request by the dispatcher. */
export function requestEnv(request: Request): EnvContext {
  const ctx = states.get(request)?.lease?.ctx
  if (!ctx) throw new Error('no environment is leased for this request')
  return ctx
}
