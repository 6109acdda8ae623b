import type { AppError } from '../lib/errors'
import type { PathAliases } from './aliases'
import { createBapi } from './bapi'
import { bapiAliases } from './bapi/aliases'
import { userLane } from './bapi/lanes'
import { createBrowser, isBrowserPath } from './browser'
import { createOauthCallback } from './browser/oauth-callback'
import { anyOrigin, type CorsEdge, noCors } from './cors'
import type { BodyPolicy } from './dispatch'
import { createDocs } from './docs'
import { createFapi } from './fapi'
import { fapiOrigins, sendClientToken } from './fapi/edge'
import { refreshLane } from './fapi/lanes'
import { createOauthApi, createOauthPages, OAUTH_PAGE_PATHS } from './oauth'
import { createScim } from './scim'
import { htmlErrorResponse } from './shared/error-page'
import { authenticationInvalid } from './shared/errors'
import type { Lane } from './shared/lane'
import { oauthErrorResponse } from './shared/oauth-errors'
import { clerkErrorResponse, type Presenter } from './shared/presenter'
import { FAPI_RATE_RULES, OAUTH_PAGE_RATE_RULES, OAUTH_RATE_RULES, type RateRule } from './shared/rate-limit'
import type { RequestState, SurfaceName } from './shared/request-state'
import { SCIM_CONTENT_TYPE, scimErrorResponse } from './shared/scim-errors'
import { createWellKnown } from './wellknown'
import { jwksLane } from './wellknown/lanes'

export type { BodyPolicy } from './dispatch'

/** How a request is recognised as this surface's. Both parts must hold. */
export interface SurfaceMatch {
  /**
   * A path prefix on segment boundaries ('/v1' is /v1 and /v1/…; one ending in '/', such as
   * '/.well-known/', only what lies under it), or a predicate over path and method.
   */
  path: string | ((path: string, method: string) => boolean)
  /** A test of the Authorization header; when it fails, the entry is passed over. */
  credential?: (authorization: string | null) => boolean
}

/**
 * Where the request's environment comes from: the Host (FAPI, OAuth, SCIM, browser routes), the
 * secret key in `Authorization: Bearer sk_…` (BAPI), or nowhere (docs).
 */
export type EnvBinding = 'host' | 'secret-key' | 'none'

/**
 * Origin policy: 'fapi-origins' (the env's allowed origins, with credentials; other origins'
 * mutations refused), 'any' (`*`, no credentials), 'none' (no CORS headers, no Origin check:
 * form posts from foreign origins, such as an IdP posting to the SAML ACS, are accepted).
 */
export type CorsPolicy = 'fapi-origins' | 'any' | 'none'

/** What clerk-js (and our own SDK) add to Frontend API calls (clerk-fapi-dialect.md §1). */
export const FAPI_CLIENT_PARAMS = [
  '_authn_session_id',
  '_clerk_session_id',
  '_clerk_js_version',
  '__clerk_api_version',
  '_clerk_retry_attempt',
  '__domain',
  '__clerk_db_jwt',
] as const

/** What the dispatcher does around the surface's app. */
export interface SurfaceEdge {
  cors: CorsPolicy
  /** POST ?_method=PATCH|PUT|DELETE is rewritten to that verb (clerk-js sends only GET and POST). */
  methodOverride: boolean
  /**
   * Query parameters an SDK adds to every call (its version, the session it acts for): taken out
   * of the URL before routing, so strict query schemas don't refuse them (`state.clientParams`).
   */
  clientParams?: readonly string[]
  /** Other spellings of the app's routes (Clerk's), rewritten to the route's path before routing. */
  pathAliases?: PathAliases
  body: BodyPolicy
  /** Per-IP limits (off when the server's rateLimits is false). */
  rateLimits?: readonly RateRule[]
  /** Runs on every answer once the request is bound, errors included, after the CORS headers. */
  finish?: (request: Request, state: RequestState, response: Response) => void | Promise<void>
}

/** An Elysia app, or anything else that answers a Request. */
export interface SurfaceApp {
  handle(request: Request): Response | Promise<Response>
}

/** One entry of the dispatcher's table. */
export interface Surface {
  name: SurfaceName
  match: SurfaceMatch
  env: EnvBinding
  /** The error when the env cannot be found; default 404 environment_not_found. */
  unknownEnv?: () => AppError
  edge: SurfaceEdge
  /** Presents errors raised at the edge; the app registers the same one (elysiaPresenter). */
  present: Presenter
  app: SurfaceApp
  /** The hottest routes' usual cases, tried before the app. */
  lanes?: readonly Lane[]
}

export const CORS: Readonly<Record<CorsPolicy, CorsEdge>> = {
  'fapi-origins': fapiOrigins,
  any: anyOrigin,
  none: noCors,
}

function pathMatches(match: SurfaceMatch['path'], path: string, method: string): boolean {
  if (typeof match === 'function') return match(path, method)
  if (match.endsWith('/')) return path.startsWith(match)
  return path === match || path.startsWith(`${match}/`)
}

/** The first entry that recognises the request: the table is ordered, narrower entries first. */
export function pickSurface(
  table: readonly Surface[],
  path: string,
  method: string,
  authorization: string | null,
): Surface | undefined {
  return table.find(
    (s) =>
      pathMatches(s.match.path, path, method) && (!s.match.credential || s.match.credential(authorization)),
  )
}

/** BAPI: JSON or form bodies, and a JSON body must parse. */
const CHECKED_BODIES: BodyPolicy = { json: 'must-parse' }

/** SCIM: JSON as application/scim+json or application/json (Okta's SPEC test sends the latter). */
const SCIM_BODIES: BodyPolicy = {
  json: 'must-parse',
  accept: [SCIM_CONTENT_TYPE, 'application/json'],
  maxBytes: 1024 * 1024,
}

/**
 * Today's surfaces, in dispatch order. Entries for /oauth/*, /scim/v2/* and browser-only routes
 * (/v1/saml/{id}/acs, callbacks) go before bapi and fapi, which claim everything else under /v1:
 *
 *   docs       GET /openapi/*.json, /docs   any host             clerk envelope
 *   wellknown  /.well-known/*               env by host          clerk envelope
 *   scim       /scim/v2/*                   env by host, org by SCIM bearer token   RFC 7644
 *   bapi       /v1 + Bearer sk_…            env by secret key    clerk envelope
 *   fapi       /v1 otherwise                env by host (unknown host: 401, a BAPI call without
 *                                           its key), FAPI origins, _method, rate limits, client
 *                                           token on the way out      clerk envelope
 */
export function defaultSurfaces(): Surface[] {
  const bapi = createBapi()
  const fapi = createFapi()
  const wellknown = createWellKnown()
  const oauthPages = createOauthPages()
  const oauthApi = createOauthApi()
  const oauthCallback = createOauthCallback()
  const scim = createScim()
  const browser = createBrowser()
  // The Frontend API document covers everything on a frontend host, not only /v1.
  const docs = createDocs({
    bapi,
    fapi,
    wellknown,
    frontendHost: [oauthApi, oauthPages, oauthCallback, browser, scim],
  })
  return [
    {
      // The OAuth provider's pages (authorize, consent, hosted sign-in): a person is looking.
      name: 'browser',
      match: { path: (p) => OAUTH_PAGE_PATHS.includes(p) },
      env: 'host',
      edge: {
        cors: 'none',
        methodOverride: false,
        body: { json: 'unchecked' },
        rateLimits: OAUTH_PAGE_RATE_RULES,
        finish: sendClientToken,
      },
      present: htmlErrorResponse,
      app: oauthPages,
    },
    {
      // Token, introspection, revocation, userinfo: RFC 6749 bodies, open to SPA clients.
      name: 'oauth',
      match: { path: '/oauth' },
      env: 'host',
      edge: {
        cors: 'any',
        methodOverride: false,
        body: { json: 'unchecked' },
        rateLimits: OAUTH_RATE_RULES,
      },
      present: oauthErrorResponse,
      app: oauthApi,
    },
    {
      name: 'docs',
      match: { path: docs.matches },
      env: 'none',
      edge: { cors: 'none', methodOverride: false, body: CHECKED_BODIES },
      present: clerkErrorResponse,
      app: docs,
    },
    {
      name: 'wellknown',
      match: { path: '/.well-known/' },
      env: 'host',
      edge: { cors: 'none', methodOverride: false, body: CHECKED_BODIES },
      present: clerkErrorResponse,
      app: wellknown,
      lanes: [jwksLane],
    },
    {
      // Social sign-in's callback: HTML errors, and a provider's cross-site form POST is accepted.
      name: 'browser',
      match: { path: '/v1/oauth-callback' },
      env: 'host',
      edge: { cors: 'none', methodOverride: false, body: CHECKED_BODIES, finish: sendClientToken },
      present: htmlErrorResponse,
      app: oauthCallback,
    },
    {
      name: 'scim',
      match: { path: '/scim/v2' },
      env: 'host',
      edge: { cors: 'none', methodOverride: false, body: SCIM_BODIES },
      present: scimErrorResponse,
      app: scim,
    },
    {
      // Enterprise SSO's browser legs (SAML ACS and start, OIDC callback, SP metadata).
      name: 'browser',
      match: { path: isBrowserPath },
      env: 'host',
      edge: { cors: 'none', methodOverride: false, body: CHECKED_BODIES, finish: sendClientToken },
      present: htmlErrorResponse,
      app: browser,
    },
    {
      name: 'bapi',
      match: { path: '/v1', credential: (a) => a?.startsWith('Bearer sk_') ?? false },
      env: 'secret-key',
      edge: { cors: 'none', methodOverride: false, pathAliases: bapiAliases, body: CHECKED_BODIES },
      present: clerkErrorResponse,
      app: bapi,
      lanes: [userLane],
    },
    {
      name: 'fapi',
      match: { path: '/v1' },
      env: 'host',
      // Not a frontend host, so this can only be a Backend API call without its key.
      unknownEnv: () => authenticationInvalid(),
      edge: {
        cors: 'fapi-origins',
        methodOverride: true,
        clientParams: FAPI_CLIENT_PARAMS,
        body: CHECKED_BODIES,
        rateLimits: FAPI_RATE_RULES,
        finish: sendClientToken,
      },
      present: clerkErrorResponse,
      app: fapi,
      lanes: [refreshLane],
    },
  ]
}
