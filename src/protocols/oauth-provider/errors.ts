import { AppError } from '../../lib/errors'

/**
 * RFC 6749 / 6750 error codes. The OAuth presenter writes `{ error, error_description }` from
 * `meta.oauth_error`; the authorization endpoint sends the same codes back in the redirect.
 */
export type OAuthCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_token'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'

export class OAuthError extends AppError {
  constructor(
    readonly oauthCode: OAuthCode,
    readonly description: string,
    status = 400,
  ) {
    super(status, [
      { code: oauthCode, message: description, long_message: description, meta: { oauth_error: oauthCode } },
    ])
    this.name = 'OAuthError'
  }
}

export const invalidRequest = (why: string) => new OAuthError('invalid_request', why)
export const invalidClient = (why = 'Client authentication failed.') =>
  new OAuthError('invalid_client', why, 401)
export const invalidGrant = (why: string, status = 400) => new OAuthError('invalid_grant', why, status)
export const invalidToken = (why = 'The access token is invalid, expired or revoked.') =>
  new OAuthError('invalid_token', why, 401)
