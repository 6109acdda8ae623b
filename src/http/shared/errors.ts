import { AppError } from '../../lib/errors'

// Errors only a surface can raise: the request never reached a capability.

export const routeNotFound = () =>
  new AppError(404, [
    { code: 'route_not_found', message: 'not found', long_message: 'No route matches this method and path.' },
  ])

export const environmentNotFound = () =>
  new AppError(404, [
    {
      code: 'environment_not_found',
      message: 'not found',
      long_message: 'No environment is configured for this host.',
    },
  ])

export const authenticationInvalid = (long = 'The secret key is missing, malformed or revoked.') =>
  new AppError(401, [
    { code: 'authentication_invalid', message: 'invalid authentication', long_message: long },
  ])

export const malformedRequest = (long = 'The request body could not be parsed.') =>
  new AppError(400, [{ code: 'malformed_request', message: 'malformed request', long_message: long }])

export const bodyTooLarge = (limit: number) =>
  new AppError(413, [
    {
      code: 'request_body_too_large',
      message: 'request body too large',
      long_message: `The request body exceeds the limit of ${limit} bytes.`,
    },
  ])

export const unsupportedContentType = (
  accepted: readonly string[] = ['application/json', 'application/x-www-form-urlencoded'],
) =>
  new AppError(415, [
    {
      code: 'unsupported_content_type',
      message: 'unsupported content type',
      long_message: `Send ${accepted.length > 1 ? `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}` : accepted[0]}.`,
    },
  ])

/** A body within the size cap whose shape (nesting, values, form fields) is past the surface's bounds. */
export const bodyTooComplex = (long: string) =>
  new AppError(400, [
    { code: 'request_body_too_complex', message: 'request body too complex', long_message: long },
  ])
