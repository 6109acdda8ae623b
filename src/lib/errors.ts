/** One internal error type; each surface's presenter turns it into its own wire format. */
export interface ErrorItem {
  code: string
  message: string
  long_message?: string
  meta?: Record<string, unknown>
}

// No `code` field and no `toResponse()`: Elysia would let either bypass the presenters
// (style-anchors §4.1.2–3), which add the trace id.
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly items: ErrorItem[],
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(items[0]?.long_message ?? items[0]?.message ?? 'error', options)
    this.name = 'AppError'
    this.headers = options?.headers
  }
  readonly headers: Record<string, string> | undefined
}

export function assertThat(condition: unknown, error: () => AppError): asserts condition {
  if (!condition) throw error()
}

export const notFound = (kind: string) =>
  new AppError(404, [
    { code: 'resource_not_found', message: 'not found', long_message: `No ${kind} was found with that id.` },
  ])

/** A form error attached to one parameter (`meta.param_name`), always a 422. */
export const formError = (code: string, param: string, message: string, long?: string) =>
  new AppError(422, [{ code, message, long_message: long ?? message, meta: { param_name: param } }])

export const formParamInvalid = (param: string, long: string) =>
  formError('form_param_format_invalid', param, 'is invalid', long)

export const formParamMissing = (param: string) =>
  formError('form_param_missing', param, 'is missing', `${param} is required.`)

export const formIdentifierExists = (param: string) =>
  formError(
    'form_identifier_exists',
    param,
    'is taken',
    `That ${param.replace(/_/g, ' ')} is taken. Please try another.`,
  )

export const internalError = (): ErrorItem => ({
  code: 'internal_error',
  message: 'internal error',
  long_message: 'Something went wrong on our side. The trace id identifies it in our logs.',
})
