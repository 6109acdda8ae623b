import { AppError } from '../../lib/errors'
import { type Presenter, type PresentState, reportUnexpected } from './presenter'

/**
 * RFC 6749 §5.2 error codes (plus RFC 6750's for resource endpoints). An AppError names its code
 * in its first item's `meta.oauth_error`; without one, the status decides (below).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'

/** `meta` for an AppError that an OAuth endpoint answers with a given RFC 6749 code. */
export const oauthMeta = (error: OAuthErrorCode) => ({ oauth_error: error })

function codeFor(err: AppError): string {
  const explicit = err.items[0]?.meta?.oauth_error
  if (typeof explicit === 'string') return explicit
  if (err.status === 401) return 'invalid_client'
  if (err.status === 403) return 'access_denied'
  if (err.status === 429 || err.status === 503) return 'temporarily_unavailable'
  if (err.status >= 500) return 'server_error'
  return 'invalid_request'
}

/** §5.2: error_description is printable ASCII without `"` and `\`. */
const describe = (text: string) =>
  text
    .replaceAll('"', "'")
    .replaceAll('\\', '/')
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')

function challenge(code: string, description: string, state: PresentState): string | null {
  if (code === 'invalid_client') {
    // §5.2: a client that tried HTTP authentication gets a challenge for the scheme it used.
    const tried = state.request?.headers.get('authorization')
    if (!tried?.toLowerCase().startsWith('basic ')) return null
    return `Basic realm="${state.frontendUrl ?? 'authn'}"`
  }
  // RFC 6750 §3: resource endpoints (userinfo) say why the bearer token was refused.
  if (code === 'invalid_token' || code === 'insufficient_scope') {
    return `Bearer error="${code}", error_description="${description}"`
  }
  return null
}

/**
 * The OAuth surface's presenter: `{ error, error_description }` with `Cache-Control: no-store`
 * and `Pragma: no-cache`. Form-style 422s become 400 (RFC 6749 has no 422); other statuses
 * stay, so 401 invalid_client, 404 for an unknown route (as oidc-provider answers) and 413/429
 * keep their meaning. Unknown errors are logged and become 500 server_error.
 */
export const oauthErrorResponse: Presenter = (error, state) => {
  const headers = new Headers({
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  })
  if (!(error instanceof AppError)) {
    reportUnexpected(error, state)
    return new Response(
      JSON.stringify({
        error: 'server_error',
        error_description:
          'Something went wrong on our side. The x-trace-id header identifies it in our logs.',
      }),
      { status: 500, headers },
    )
  }
  const code = codeFor(error)
  const texts = [...new Set(error.items.map((i) => i.long_message ?? i.message))]
  const description = describe(texts.join(' '))
  for (const [k, v] of Object.entries(error.headers ?? {})) headers.set(k, v)
  const www = headers.has('www-authenticate') ? null : challenge(code, description, state)
  if (www) headers.set('www-authenticate', www)
  const status = error.status === 422 ? 400 : error.status
  return new Response(JSON.stringify({ error: code, error_description: description }), { status, headers })
}
