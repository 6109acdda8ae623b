import type { RequestState } from './request-state'

/**
 * One route's usual case answered without the surface's app, whose routing, validation and
 * hooks cost more than the work itself on the hottest routes. Tried once the edge has run (env
 * bound, origin and rate limits checked), for requests without a body; null hands the request
 * to the app, which answers everything else, errors included, as it always has. CORS headers,
 * the surface's finish, the access line and the metrics are the dispatcher's, as for the app.
 */
export interface Lane {
  method: string
  /** The route template it answers (the metrics label). */
  route: string
  answer(request: Request, path: string, state: RequestState): Response | Promise<Response> | null
}

const JSON_HEADERS = { 'content-type': 'application/json' }

/** A lane's 200 with a JSON body it has already serialized. */
export const jsonAnswer = (json: string) => new Response(json, { headers: JSON_HEADERS })
