import { randomToken } from '../../crypto/secrets'
import { withTx } from '../../db/tx'
import type { OauthApplicationRow } from '../../domain/oauth/schema'
import { allowedScopes, covers, parseScopes } from '../../domain/oauth/scopes'
import { applicationByClientId, consentTo, findGrant, isLoopbackHost } from '../../domain/oauth/service'
import { insertCode } from '../../domain/oauth/tokens'
import type { SessionRow } from '../../domain/sessions/schema'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { type OAuthCode, OAuthError } from './errors'
import type { Params } from './params'

/**
 * GET|POST /oauth/authorize as a pipeline of small checks (reference §2). Until client_id and
 * redirect_uri are proven, a failure is an error page and never a redirect; after that, errors
 * go back to the client in the redirect, with `state` and `iss` (RFC 9207).
 */

/** A failure shown to the person on an error page: the client or its redirect URI is not proven. */
export const pageError = (text: string) =>
  new AppError(400, [{ code: 'oauth_request_invalid', message: text, long_message: text }])

export interface AuthorizationRequest {
  app: OauthApplicationRow
  /** Where the answer goes: the registered URI the request named (or the only one). */
  redirectUri: string
  /** The request named redirect_uri (the token request must then repeat it). */
  redirectUriSent: boolean
  state: string | undefined
  scopes: string[]
  nonce: string | undefined
  codeChallenge: string | undefined
  prompt: Set<string>
  maxAge: number | undefined
  /** The request's parameters, as the consent and sign-in pages send them back. */
  params: Params
}

/** An error the client hears about through its redirect URI. */
export class RedirectError extends Error {
  constructor(
    readonly code: OAuthCode,
    readonly description: string,
    readonly to: { redirectUri: string; state: string | undefined },
  ) {
    super(description)
  }
}

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])

/** RFC 8252 §7.3: a native app's loopback redirect may use any port. */
function loopbackMatch(registered: string, asked: string): boolean {
  let r: URL
  let a: URL
  try {
    r = new URL(registered)
    a = new URL(asked)
  } catch {
    return false
  }
  if (r.protocol !== 'http:' || a.protocol !== 'http:') return false
  if (r.hostname !== a.hostname || !isLoopbackHost(r.hostname) || r.hostname === 'localhost') return false
  r.port = ''
  a.port = ''
  return r.href === a.href && !asked.includes('#') && !a.username && !a.password
}

/** Steps 1–2: the client exists and the redirect URI is one it registered, exactly. */
function checkClientAndRedirect(ctx: EnvContext, params: Params, repeated: string[]) {
  if (repeated.includes('client_id')) throw pageError('The request names client_id more than once.')
  if (repeated.includes('redirect_uri')) throw pageError('The request names redirect_uri more than once.')
  const clientId = params.get('client_id')
  if (!clientId) throw pageError('The request does not name a client (client_id is missing).')
  const app = applicationByClientId(ctx, clientId)
  if (!app) throw pageError('No application is registered with this client_id.')
  const asked = params.get('redirect_uri')
  if (asked === undefined) {
    if (app.redirectUris.length !== 1)
      throw pageError('The request must name its redirect_uri (the application registered several).')
    return { app, redirectUri: app.redirectUris[0]!, redirectUriSent: false }
  }
  const exact = app.redirectUris.includes(asked)
  if (!exact && !(app.isPublic && app.redirectUris.some((r) => loopbackMatch(r, asked))))
    throw pageError('The redirect_uri is not one this application registered.')
  return { app, redirectUri: asked, redirectUriSent: true }
}

/** Validates an authorization request. Throws a page error or a RedirectError. */
export function parseAuthorizationRequest(
  ctx: EnvContext,
  params: Params,
  repeated: string[],
): AuthorizationRequest {
  const { app, redirectUri, redirectUriSent } = checkClientAndRedirect(ctx, params, repeated)
  const state = repeated.includes('state') ? undefined : params.get('state')
  const fail = (code: OAuthCode, why: string) => new RedirectError(code, why, { redirectUri, state })
  if (repeated.length)
    throw fail('invalid_request', `Parameters may not be repeated: ${repeated.join(', ')}.`)
  if (params.has('request')) throw fail('request_not_supported', 'Request objects are not supported.')
  if (params.has('request_uri')) throw fail('request_uri_not_supported', 'request_uri is not supported.')
  const responseType = params.get('response_type')
  if (!responseType) throw fail('invalid_request', 'response_type is missing.')
  if (responseType !== 'code')
    throw fail('unsupported_response_type', 'Only response_type=code is supported.')
  const mode = params.get('response_mode')
  if (mode !== undefined && mode !== 'query')
    throw fail('invalid_request', 'Only response_mode=query is supported.')

  const allowed = allowedScopes(app.scopes)
  const scopes = parseScopes(params.get('scope') ?? app.scopes).filter(
    (s) => s !== 'offline_access' || params.has('scope'),
  )
  const refused = scopes.filter((s) => !allowed.has(s))
  if (refused.length)
    throw fail('invalid_scope', `Scope(s) not allowed for this application: ${refused.join(' ')}.`)
  if (!scopes.length) throw fail('invalid_scope', 'The request asks for no scope.')

  const challenge = params.get('code_challenge')
  const method = params.get('code_challenge_method')
  if (method !== undefined && method !== 'S256')
    throw fail('invalid_request', 'code_challenge_method must be S256 (plain is not supported).')
  if (challenge !== undefined && method === undefined)
    throw fail('invalid_request', 'code_challenge_method is required: S256.')
  if (method !== undefined && challenge === undefined)
    throw fail('invalid_request', 'code_challenge is missing.')
  if (challenge !== undefined && !CODE_CHALLENGE.test(challenge))
    throw fail('invalid_request', 'code_challenge must be 43 base64url characters (S256).')
  if (challenge === undefined && app.pkceRequired)
    throw fail('invalid_request', 'This application must use PKCE (code_challenge with S256).')

  const prompt = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean))
  for (const p of prompt) if (!PROMPTS.has(p)) throw fail('invalid_request', `Unknown prompt value: ${p}.`)
  if (prompt.has('none') && prompt.size > 1) throw fail('invalid_request', 'prompt=none cannot be combined.')
  const maxAgeRaw = params.get('max_age')
  let maxAge: number | undefined
  if (maxAgeRaw !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeRaw)) throw fail('invalid_request', 'max_age must be a number of seconds.')
    maxAge = Number(maxAgeRaw)
  }
  const nonce = params.get('nonce')
  if (nonce !== undefined && nonce.length > 512) throw fail('invalid_request', 'nonce is too long.')
  if (state !== undefined && state.length > 2048) throw fail('invalid_request', 'state is too long.')
  return {
    app,
    redirectUri,
    redirectUriSent,
    state,
    scopes,
    nonce,
    codeChallenge: challenge,
    prompt,
    maxAge,
    params,
  }
}

/** `redirect_uri?…&state=…&iss=…`, keeping the registered URI's own query. */
export function redirectTo(
  to: { redirectUri: string; state: string | undefined },
  issuer: string,
  values: Record<string, string>,
): string {
  const url = new URL(to.redirectUri)
  for (const [k, v] of Object.entries(values)) url.searchParams.append(k, v)
  if (to.state !== undefined) url.searchParams.append('state', to.state)
  url.searchParams.append('iss', issuer)
  return url.href
}

export const errorRedirect = (e: RedirectError, issuer: string) =>
  redirectTo(e.to, issuer, { error: e.code, error_description: e.description })

/** Seconds: the session's last authentication (its latest factor). */
export const authTimeOf = (s: SessionRow) =>
  Math.floor(Math.max(s.firstFactorVerifiedAt, s.secondFactorVerifiedAt ?? 0) / 1000)

/** What the person must do next, or the answer to send the client to. */
export type Next =
  | { step: 'sign-in' }
  | { step: 'consent'; request: AuthorizationRequest; session: SessionRow }
  | { step: 'redirect'; location: string }

/**
 * Steps 5–9: a fresh enough session, consent that covers the scopes, then a code. `consented`:
 * the person just pressed Allow on the consent page for exactly this request.
 */
export function decide(
  ctx: EnvContext,
  req: AuthorizationRequest,
  session: SessionRow | null,
  issuer: string,
  opts: { consented?: boolean; freshSignIn?: boolean } = {},
): Next {
  const to = { redirectUri: req.redirectUri, state: req.state }
  const fail = (code: OAuthCode, why: string): Next => ({
    step: 'redirect',
    location: redirectTo(to, issuer, { error: code, error_description: why }),
  })
  const now = ctx.clock.now()
  const tooOld = session && req.maxAge !== undefined && now - authTimeOf(session) * 1000 > req.maxAge * 1000
  const mustLogin = !session || tooOld || (req.prompt.has('login') && !opts.freshSignIn)
  if (mustLogin) {
    if (req.prompt.has('none')) return fail('login_required', 'The user is not signed in.')
    return { step: 'sign-in' }
  }
  const grant = findGrant(ctx.db, req.app.id, session.userId)
  const covered = grant ? covers(parseScopes(grant.scopes), req.scopes) : false
  const needConsent =
    !opts.consented && (req.prompt.has('consent') || (req.app.consentScreenEnabled && !covered))
  if (needConsent) {
    if (req.prompt.has('none')) return fail('consent_required', 'The user has not consented to these scopes.')
    return { step: 'consent', request: req, session }
  }
  const code = randomToken(32)
  withTx(ctx, (tx) => {
    const g = consentTo(tx, ctx, req.app, session.userId, req.scopes)
    insertCode(tx, ctx, code, {
      grantId: g.id,
      applicationId: req.app.id,
      userId: session.userId,
      sessionId: session.id,
      redirectUri: req.redirectUriSent ? req.redirectUri : null,
      scopes: req.scopes.join(' '),
      nonce: req.nonce ?? null,
      codeChallenge: req.codeChallenge ?? null,
      authTime: authTimeOf(session),
      offline: req.scopes.includes('offline_access'),
    })
  })
  return { step: 'redirect', location: redirectTo(to, issuer, { code }) }
}

export { OAuthError }
