import { ValueErrorType } from '@sinclair/typebox/errors'
import { Elysia, ValidationError } from 'elysia'
import { AppError, type ErrorItem, internalError } from '../../lib/errors'
import { silentLogger } from '../../log'
import { malformedRequest, routeNotFound } from './errors'
import { type RequestState, requestState } from './request-state'

/**
 * The error envelope. `clerk_trace_id` repeats `trace_id` under the name Clerk's SDKs read
 * (`@clerk/backend` reports it as `clerkTraceId` on its errors).
 */
export const envelope = (items: ErrorItem[], traceId: string) => ({
  errors: items,
  trace_id: traceId,
  clerk_trace_id: traceId,
})

const JSON_TYPE = 'application/json'

/**
 * `application/json` exactly, without the `;charset=utf-8` Bun's Response.json and Elysia add:
 * JSON is UTF-8 by definition (RFC 8259 §11 defines no charset parameter), and Clerk's SDKs
 * parse a body as JSON only when the type is exactly `application/json` (otherwise they read a
 * string and lose an error's `errors` array). Other types (`application/scim+json`, HTML) stay.
 */
export function exactJsonType(response: Response) {
  const type = response.headers.get('content-type')
  if (type && type !== JSON_TYPE && type.split(';')[0]!.trim().toLowerCase() === JSON_TYPE) {
    response.headers.set('content-type', JSON_TYPE)
  }
}

interface IssueLike {
  path?: string
  message?: string
  type?: number
}

/**
 * `/email_address/0` → `email_address`; `/password_settings/min_length` →
 * `password_settings.min_length`; the whole of it (`body`, `query`) for an issue at its root.
 */
function paramName(path: string | undefined, part: string): string {
  const parts = (path ?? '').split('/').filter((p) => p && !/^\d+$/.test(p))
  return parts.join('.') || part
}

/** An answer names at most this many parameters, however many are wrong. */
export const MAX_VALIDATION_ITEMS = 10
/** Issues read to find them: a body of 20 000 wrong values would otherwise be walked whole. */
const MAX_ISSUES_READ = 50

/**
 * The validator's issues, read lazily: TypeBox's `Errors` is a generator, so stopping early
 * costs only the issues read (`ValidationError.all` would collect and map 64 of them).
 */
function* issuesOf(error: ValidationError): Generator<IssueLike> {
  const validator = error.validator as { Errors?: (value: unknown) => Iterable<IssueLike> } | undefined
  const issues =
    typeof validator?.Errors === 'function' ? validator.Errors(error.value) : (error.all as IssueLike[])
  let read = 0
  for (const issue of issues) {
    yield issue
    if (++read >= MAX_ISSUES_READ) return
  }
}

/**
 * Maps TypeBox issues to form errors without echoing schemas or values back: one per parameter,
 * the first MAX_VALIDATION_ITEMS parameters only.
 */
export function validationItems(error: ValidationError): ErrorItem[] {
  const seen = new Set<string>()
  const items: ErrorItem[] = []
  // Which part of the request the validator read (Elysia's `type`): its name stands for the root.
  const part = typeof error.type === 'string' && error.type !== 'response' ? error.type : 'body'
  for (const issue of issuesOf(error)) {
    if (items.length >= MAX_VALIDATION_ITEMS) break
    const param = paramName(issue.path, part)
    if (seen.has(param)) continue
    seen.add(param)
    if (issue.type === ValueErrorType.ObjectRequiredProperty) {
      items.push({
        code: 'form_param_missing',
        message: 'is missing',
        long_message: `${param} is required.`,
        meta: { param_name: param },
      })
    } else if (issue.type === ValueErrorType.ObjectAdditionalProperties) {
      items.push({
        code: 'form_param_unknown',
        message: 'is unknown',
        long_message: `${param} is not a valid parameter for this request.`,
        meta: { param_name: param },
      })
    } else {
      const why = (issue.message ?? 'is invalid').replace(/^Expected/, 'expected')
      items.push({
        code: 'form_param_format_invalid',
        message: 'is invalid',
        long_message: `${param} is invalid: ${why}.`,
        meta: { param_name: param },
      })
    }
  }
  return items.length
    ? items
    : [{ code: 'form_param_format_invalid', message: 'is invalid', long_message: 'The request is invalid.' }]
}

/** What a presenter may read of the request's state: enough to log and to name the trace. */
export type PresentState = Pick<RequestState, 'traceId' | 'log'> &
  Partial<Pick<RequestState, 'request' | 'frontendUrl'>>

/**
 * A surface's error presenter: one AppError (or anything thrown) in, that surface's wire format
 * out. The dispatcher calls it for errors raised around the surface's app (no env, 413, broken
 * JSON, origin refused); `elysiaPresenter` calls the same function for errors inside the app.
 */
export type Presenter = (error: unknown, state: PresentState) => Response

/**
 * Elysia's own failures as the AppError each stands for, so every presenter maps one type:
 * request validation → 422 form errors, PARSE → 400 malformed_request, NOT_FOUND → 404
 * route_not_found. A response that failed its schema is our bug, so it is returned unchanged
 * and, like anything else unknown, becomes a 500.
 */
export function fromElysia(error: unknown, code: unknown): unknown {
  if (error instanceof AppError) return error
  if (error instanceof ValidationError) {
    return error.type === 'response' ? error : new AppError(422, validationItems(error))
  }
  if (code === 'PARSE') return malformedRequest()
  if (code === 'NOT_FOUND') return routeNotFound()
  return error
}

/** Logs an error no presenter may show: the wire only ever says "internal" and the trace id. */
export function reportUnexpected(error: unknown, state: PresentState) {
  if (error instanceof ValidationError && error.type === 'response') {
    state.log.error({ err: error.message, trace_id: state.traceId }, 'response failed its schema')
  } else {
    state.log.error({ err: error, trace_id: state.traceId }, 'unhandled error')
  }
}

/** The presenter state of a request the dispatcher did not see (an app driven directly). */
const detached = (request: Request): PresentState => ({ traceId: '', log: silentLogger, request })

/**
 * A surface app's onError, registered first on the app, presenting through `present`: the same
 * function the dispatcher uses for that surface, so edge and route errors look alike.
 */
export const elysiaPresenter = (present: Presenter) =>
  new Elysia().onError({ as: 'global' }, ({ error, code, request }) =>
    present(fromElysia(error, code), requestState(request) ?? detached(request)),
  )

/** The `{ errors, trace_id }` envelope as a Response: BAPI, FAPI, /.well-known and docs. */
export const clerkErrorResponse: Presenter = (error, state) => {
  if (error instanceof AppError) {
    return Response.json(envelope(error.items, state.traceId), {
      status: error.status,
      headers: error.headers,
    })
  }
  reportUnexpected(error, state)
  return Response.json(envelope([internalError()], state.traceId), { status: 500 })
}

/**
 * The `{ errors, trace_id }` presenter of BAPI and FAPI. Registered first on each surface app,
 * so it handles every error of the routes that follow, parse and not-found included. It returns
 * the envelope as a value (Elysia serializes it) rather than through clerkErrorResponse, which
 * keeps these answers byte-for-byte what they were.
 */
export const clerkPresenter = () =>
  new Elysia()
    // The matched route's template, for the metrics (known once routed, before validation).
    .onTransform({ as: 'global' }, ({ route, request }) => {
      const state = requestState(request)
      if (state) state.route = route
    })
    .onError({ as: 'global' }, ({ error, code, request, set }) => {
      const state = requestState(request) ?? detached(request)
      const err = fromElysia(error, code)
      if (err instanceof AppError) {
        set.status = err.status
        if (err.headers) for (const [k, v] of Object.entries(err.headers)) set.headers[k] = v
        return envelope(err.items, state.traceId)
      }
      reportUnexpected(err, state)
      set.status = 500
      return envelope([internalError()], state.traceId)
    })

/*
 * Surfaces run with `normalize: false`: Elysia would otherwise strip unknown body parameters
 * silently, and a typo (`first_nme`) must be a 422 form_param_unknown instead. Serializers
 * build every response object field by field, so nothing unlisted can reach the wire.
 */
