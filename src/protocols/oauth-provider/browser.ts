import { createHmac } from 'node:crypto'
import { constantTimeEqual } from '../../crypto/secrets'
import { SCOPE_WORDS } from '../../domain/oauth/scopes'
import type { SessionRow } from '../../domain/sessions/schema'
import { findUser } from '../../domain/users/service'
import { consentPage } from '../../pages/consent'
import type { Branding } from '../../pages/layout'
import { pageHeaders } from '../../pages/layout'
import type { EnvContext } from '../../tenancy/context'
import {
  type AuthorizationRequest,
  decide,
  errorRedirect,
  type Next,
  pageError,
  parseAuthorizationRequest,
  RedirectError,
  redirectTo,
} from './authorize'
import { type Params, readParams } from './params'

export const SIGN_IN_PATH = '/oauth/sign-in'
export const CONSENT_PATH = '/oauth/consent'

export const brandingOf = (ctx: EnvContext): Branding => ({
  applicationName: ctx.settings().application_name,
})

/** Ties a consent form to the session that was shown it and to the exact request. */
function csrfToken(ctx: EnvContext, session: SessionRow, request: string): string {
  const key = createHmac('sha256', ctx.dataKey.key).update('oauth-consent-csrf').digest()
  return createHmac('sha256', key).update(`${session.id}\n${request}`).digest('base64url')
}

const serialize = (params: Params) => new URLSearchParams([...params]).toString()

const redirect = (location: string, status = 302) =>
  new Response(null, { status, headers: pageHeaders({ location }) })

function consentResponse(ctx: EnvContext, req: AuthorizationRequest, session: SessionRow): Response {
  const user = findUser(ctx, session.userId)
  const email = user?.emails.find((e) => e.id === user.user.primaryEmailAddressId)?.emailAddress
  const label = email ?? user?.user.username ?? session.userId
  const request = serialize(req.params)
  const body = consentPage(brandingOf(ctx), {
    clientName: req.app.name,
    clientLogoUrl: req.app.logoUrl,
    homepageUrl: req.app.homepageUrl,
    userLabel: label,
    scopes: req.scopes.map((s) => SCOPE_WORDS[s] ?? s),
    request,
    csrfToken: csrfToken(ctx, session, request),
    action: CONSENT_PATH,
  })
  return new Response(body, { status: 200, headers: pageHeaders() })
}

function answer(ctx: EnvContext, next: Next, params: Params, status = 302): Response {
  if (next.step === 'redirect') return redirect(next.location, status)
  if (next.step === 'consent') return consentResponse(ctx, next.request, next.session)
  return redirect(`${SIGN_IN_PATH}?${serialize(params)}`, status)
}

/** Validates, turning a client-directed error into the redirect that carries it. */
function parsed(ctx: EnvContext, raw: URLSearchParams, issuer: string): AuthorizationRequest | Response {
  const { params, repeated } = readParams(raw)
  try {
    return parseAuthorizationRequest(ctx, params, repeated)
  } catch (e) {
    if (e instanceof RedirectError) return redirect(errorRedirect(e, issuer))
    throw e
  }
}

/** GET|POST /oauth/authorize. */
export function authorize(
  ctx: EnvContext,
  raw: URLSearchParams,
  session: SessionRow | null,
  issuer: string,
): Response {
  const req = parsed(ctx, raw, issuer)
  if (req instanceof Response) return req
  return answer(ctx, decide(ctx, req, session, issuer), req.params)
}

/**
 * POST /oauth/consent: the person's Allow or Deny. The request is validated again from scratch;
 * the CSRF token must be the one this session was shown for it. Always 303 (RFC 9700 §4.12).
 */
export function consent(
  ctx: EnvContext,
  form: URLSearchParams,
  session: SessionRow | null,
  issuer: string,
): Response {
  const request = form.get('authorization_request')
  const token = form.get('csrf_token')
  if (!request || !token) throw pageError('The consent form is incomplete. Start again from the application.')
  if (!session) throw pageError('You are signed out. Start again from the application.')
  if (!constantTimeEqual(token, csrfToken(ctx, session, request)))
    throw pageError(
      'This consent form has expired or was not issued to you. Start again from the application.',
    )
  const req = parsed(ctx, new URLSearchParams(request), issuer)
  if (req instanceof Response) return redirect(req.headers.get('location')!, 303)
  const decision = form.get('decision')
  if (decision === 'deny')
    return redirect(
      redirectTo({ redirectUri: req.redirectUri, state: req.state }, issuer, {
        error: 'access_denied',
        error_description: 'The user denied access.',
      }),
      303,
    )
  if (decision !== 'allow') throw pageError('Choose Allow or Deny.')
  return answer(ctx, decide(ctx, req, session, issuer, { consented: true }), req.params, 303)
}
