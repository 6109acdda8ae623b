import { AppError } from '../../lib/errors'
import { type Presenter, reportUnexpected } from './presenter'

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
export const SCIM_CONTENT_TYPE = 'application/scim+json'

/** RFC 7644 §3.12 table 9. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'

/** `meta` for an AppError that a SCIM endpoint answers with a given scimType. */
export const scimMeta = (scimType: ScimType) => ({ scim_type: scimType })

/** The shared codes that have a SCIM meaning; anything else 400 is `invalidValue`. */
const SCIM_TYPE_BY_CODE: Record<string, ScimType> = {
  form_identifier_exists: 'uniqueness',
  malformed_request: 'invalidSyntax',
  form_param_unknown: 'invalidSyntax',
  form_param_missing: 'invalidValue',
  form_param_format_invalid: 'invalidValue',
}

/**
 * The SCIM surface's presenter: `{ schemas: [Error], status: "<code>", scimType?, detail }` as
 * application/scim+json. Form errors (422) become 400 with a scimType, `form_identifier_exists`
 * 409 uniqueness; a 401 carries `WWW-Authenticate: Bearer`. Unknown errors are logged, 500.
 */
export const scimErrorResponse: Presenter = (error, state) => {
  const headers = new Headers({ 'content-type': SCIM_CONTENT_TYPE })
  if (!(error instanceof AppError)) {
    reportUnexpected(error, state)
    return new Response(
      JSON.stringify({
        schemas: [SCIM_ERROR_SCHEMA],
        status: '500',
        detail: 'Something went wrong on our side. The x-trace-id header identifies it in our logs.',
      }),
      { status: 500, headers },
    )
  }
  const first = error.items[0]
  const explicit = first?.meta?.scim_type
  const scimType = typeof explicit === 'string' ? explicit : first ? SCIM_TYPE_BY_CODE[first.code] : undefined
  const status = error.status !== 422 ? error.status : scimType === 'uniqueness' ? 409 : 400
  const typed = scimType ?? (status === 400 ? 'invalidValue' : undefined)
  for (const [k, v] of Object.entries(error.headers ?? {})) headers.set(k, v)
  if (status === 401 && !headers.has('www-authenticate')) headers.set('www-authenticate', 'Bearer')
  const detail = [...new Set(error.items.map((i) => i.long_message ?? i.message))].join(' ')
  const body = {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(status),
    ...(typed ? { scimType: typed } : {}),
    detail,
  }
  return new Response(JSON.stringify(body), { status, headers })
}
