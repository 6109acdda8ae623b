import { Elysia } from 'elysia'
import { requestState } from './request-state'

/**
 * Hands a surface app the JSON body the dispatcher already parsed (and bounded) at the edge, so
 * a body is parsed once. Only for `application/json`, the one JSON type Elysia's own parser
 * reads; anything else (or a request the dispatcher did not read) falls through to Elysia.
 */
export const edgeParsedBody = () =>
  new Elysia().onParse({ as: 'global' }, ({ request, contentType }) =>
    contentType === 'application/json' ? requestState(request)?.json?.value : undefined,
  )
