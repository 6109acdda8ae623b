import { t } from 'elysia'
import { currentSession } from '../../domain/sessions/service'
import { resolveActor } from '../../http/fapi/actor'
import { requestState } from '../../http/shared/request-state'
import { capabilityRoutes } from '../../http/shared/routes'
import type { EnvContext } from '../../tenancy/context'
import { pageError } from './authorize'
import { authorize, CONSENT_PATH, consent, SIGN_IN_PATH } from './browser'
import { discoveryDocument } from './discovery'
import { postSignIn, showSignIn } from './hosted-sign-in'
import { readForm } from './params'
import { bearerOf, introspect, revoke, userinfo } from './resource'
import { tokenEndpoint } from './token'

/** The issuer: the frontend origin this request reached (one string per host, no trailing slash). */
const issuerOf = (request: Request) => requestState(request)!.frontendUrl!

/** The signed-in session of the browser (its client cookie), if any. */
async function sessionOf(env: EnvContext, request: Request) {
  const { actor } = await resolveActor(request)
  return currentSession(env, actor.client, null)
}

async function formOf(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded'
    ? new URLSearchParams(await request.text())
    : new URLSearchParams()
}

/**
 * A form the page itself posted: a browser names the page's origin; another origin would be a
 * login CSRF (signing the victim in to the attacker's account).
 */
async function sameOriginForm(request: Request): Promise<URLSearchParams> {
  const origin = request.headers.get('origin')
  if (origin && origin !== 'null' && origin !== issuerOf(request))
    throw pageError('This form was sent from another site.')
  return formOf(request)
}

const json = (value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), {
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
  })

const tags = ['OAuth provider']
const hidden = { hide: true }

/**
 * Pages a person's browser visits (HTML; errors are HTML pages): the authorization endpoint and
 * the consent form. The body is read raw, so repeated parameters can be refused.
 */
export const oauthBrowserRoutes = capabilityRoutes('browser:oauth')
  .get(
    '/oauth/authorize',
    async ({ env, request }) =>
      authorize(env, new URL(request.url).searchParams, await sessionOf(env, request), issuerOf(request)),
    { detail: { summary: 'Authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2)', tags } },
  )
  .post(
    '/oauth/authorize',
    async ({ env, request }) =>
      authorize(env, await formOf(request), await sessionOf(env, request), issuerOf(request)),
    { parse: 'none', detail: { summary: 'Authorization endpoint, form-posted (OIDC Core §3.1.2.1)', tags } },
  )
  .post(
    CONSENT_PATH,
    async ({ env, request }) =>
      consent(env, await formOf(request), await sessionOf(env, request), issuerOf(request)),
    {
      parse: 'none',
      detail: { summary: "The consent page's Allow / Deny (303 to the client)", tags, ...hidden },
    },
  )
  .get(
    SIGN_IN_PATH,
    async ({ env, request }) =>
      showSignIn(env, (await resolveActor(request)).actor, new URL(request.url).searchParams),
    { detail: { summary: 'Hosted sign-in page of the authorization endpoint', tags, ...hidden } },
  )
  .post(
    SIGN_IN_PATH,
    async ({ env, request }) =>
      postSignIn(env, (await resolveActor(request)).actor, await sameOriginForm(request), issuerOf(request)),
    {
      parse: 'none',
      detail: { summary: 'One step of the hosted sign-in (303 when complete)', tags, ...hidden },
    },
  )

/** Machine endpoints (RFC 6749 error bodies, CORS-open for public SPA clients). */
export const oauthApiRoutes = capabilityRoutes('oauth:api')
  .post(
    '/oauth/token',
    async ({ env, request }) =>
      json(await tokenEndpoint(env, request, await readForm(request), issuerOf(request))),
    {
      parse: 'none',
      detail: { summary: 'Token endpoint: authorization_code and refresh_token grants', tags },
    },
  )
  .post(
    '/oauth/token_info',
    async ({ env, request }) => json(introspect(env, request, await readForm(request), issuerOf(request))),
    { parse: 'none', detail: { summary: 'Token introspection (RFC 7662)', tags } },
  )
  .post(
    '/oauth/revoke',
    async ({ env, request }) => json(revoke(env, request, await readForm(request), issuerOf(request))),
    { parse: 'none', detail: { summary: 'Token revocation (RFC 7009)', tags } },
  )
  .get(
    '/oauth/userinfo',
    ({ env, request }) => json(userinfo(env, bearerOf(request, null), issuerOf(request))),
    {
      detail: { summary: 'OIDC userinfo: claims filtered by the token scopes (Bearer)', tags },
    },
  )
  .post(
    '/oauth/userinfo',
    async ({ env, request }) => {
      const form = request.headers.get('content-type')?.includes('form') ? await readForm(request) : null
      return json(userinfo(env, bearerOf(request, form), issuerOf(request)))
    },
    {
      parse: 'none',
      detail: { summary: 'OIDC userinfo by POST (token in the header or the form body)', tags },
    },
  )

const DiscoveryDocument = t.Object({ issuer: t.String() }, { additionalProperties: true })
const discovery = (env: EnvContext, request: Request) =>
  new Response(JSON.stringify(discoveryDocument(env, issuerOf(request))), {
    headers: {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    },
  })

/** Authorization server metadata: OIDC Discovery and RFC 8414, the same document. */
export const oauthDiscovery = capabilityRoutes('wellknown:oauth')
  .get('/.well-known/openid-configuration', ({ env, request }) => discovery(env, request), {
    response: { 200: DiscoveryDocument },
    detail: { summary: 'OpenID Connect discovery document', tags },
  })
  .get('/.well-known/oauth-authorization-server', ({ env, request }) => discovery(env, request), {
    response: { 200: DiscoveryDocument },
    detail: { summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', tags },
  })
