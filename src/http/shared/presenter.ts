import { ValueErrorType } from '@sinclair/typebox/errors'
import { Elysia, ValidationError } from 'elysia'
import { AppError, type ErrorItem, internalError } from '../../lib/errors'
import { malformedRequest, routeNotFound } from './errors'
import { requestState } from './request-state'

export const envelope = (items: ErrorItem[], traceId: string) => ({ errors: items, trace_id: traceId })

interface IssueLike {
  path?: string
  message?: string
  type?: number
}

/** `/email_address/0` → `email_address`; `/password_settings/min_length` → `password_settings.min_length`. */
function paramName(path: string | undefined): string {
  const parts = (path ?? '').split('/').filter((p) => p && !/^\d+$/.test(p))
  return parts.join('.') || 'body'
}

/** Maps TypeBox issues to form errors without echoing schemas or values back. */
export function validationItems(error: ValidationError): ErrorItem[] {
  const seen = new Set<string>()
  const items: ErrorItem[] = []
  for (const issue of error.all as IssueLike[]) {
    const param = paramName(issue.path)
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
        long_message: `The request contains a parameter that is not recognised${param === 'body' ? '' : ` in ${param}`}.`,
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

/**
 * The `{ errors, trace_id }` presenter of BAPI and FAPI. Registered first on each surface app,
 * so it handles every error of the routes that follow, parse and not-found included.
 */
export const clerkPresenter = () =>
  new Elysia().onError({ as: 'global' }, ({ error, code, request, set }) => {
    const state = requestState(request)
    const traceId = state?.traceId ?? ''
    const reply = (err: AppError) => {
      set.status = err.status
      if (err.headers) for (const [k, v] of Object.entries(err.headers)) set.headers[k] = v
      return envelope(err.items, traceId)
    }
    if (error instanceof AppError) return reply(error)
    if (error instanceof ValidationError) {
      if (error.type === 'response') {
        state?.log.error({ err: error.message }, 'response failed its schema')
        set.status = 500
        return envelope([internalError()], traceId)
      }
      set.status = 422
      return envelope(validationItems(error), traceId)
    }
    if (code === 'PARSE') return reply(malformedRequest())
    if (code === 'NOT_FOUND') return reply(routeNotFound())
    state?.log.error({ err: error }, 'unhandled error')
    set.status = 500
    return envelope([internalError()], traceId)
  })

/*
 * Surfaces run with `normalize: false`: Elysia would otherwise strip unknown body parameters
 * silently, and a typo (`first_nme`) must be a 422 form_param_unknown instead. Serializers
 * build every response object field by field, so nothing unlisted can reach the wire.
 */
