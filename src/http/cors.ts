import type { RequestState } from './shared/request-state'

/**
 * What a surface's origin policy does at the edge, around its app. The dispatcher calls these
 * in this order: preflight (OPTIONS only), check, then decorate on every answer, errors included.
 */
export interface CorsEdge {
  /** The answer to an OPTIONS request, or null to let the surface's app answer it. */
  preflight(request: Request, state: RequestState): Response | null
  /** Refuses, by throwing, a cross-origin request the policy does not allow (CSRF). */
  check(request: Request, state: RequestState): void
  /** The CORS headers of an answer. */
  decorate(request: Request, state: RequestState, response: Response): void
}

/** No CORS: foreign origins get no readable answers, and nothing is refused for its Origin. */
export const noCors: CorsEdge = {
  preflight: () => null,
  check: () => {},
  decorate: () => {},
}

/**
 * Public, credential-less reads and calls from any origin (`*`, never with credentials): what
 * discovery documents, JWKS and the OAuth token endpoint of a browser-side client need.
 */
export const anyOrigin: CorsEdge = {
  preflight(request) {
    const headers = new Headers({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers':
        request.headers.get('access-control-request-headers') ?? 'authorization, content-type',
      'access-control-max-age': '600',
    })
    return new Response(null, { status: 204, headers })
  },
  check: () => {},
  decorate(_request, _state, response) {
    response.headers.set('access-control-allow-origin', '*')
    response.headers.set('access-control-expose-headers', 'x-trace-id, retry-after, www-authenticate')
  },
}
