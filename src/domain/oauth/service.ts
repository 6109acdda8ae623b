import { and, eq, inArray } from 'drizzle-orm'
import { constantTimeEqual, randomToken, sha256Hex } from '../../crypto/secrets'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { assertThat, formError, formParamInvalid, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import type {
  CreateOauthApplicationBody,
  ListGrantsQuery,
  ListOauthApplicationsQuery,
  OauthApplicationResource,
  OauthApplicationWithSecret,
  OauthGrantResource,
  UpdateOauthApplicationBody,
} from './model'
import { type OauthApplicationRow, type OauthGrantRow, oauthApplications, oauthGrants } from './schema'
import { DEFAULT_APP_SCOPES, joinScopes, KNOWN_SCOPES, parseScopes } from './scopes'

type Reader = EnvContext['db'] | EnvTx

/** The provider's endpoints on the env's frontend origin (discovery names the same paths). */
export const OAUTH_PATHS = {
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  userinfo: '/oauth/userinfo',
  introspection: '/oauth/token_info',
  revocation: '/oauth/revoke',
  registration: '/oauth/register',
  discovery: '/.well-known/openid-configuration',
  jwks: '/.well-known/jwks.json',
} as const

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])
export const isLoopbackHost = (host: string) => LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost')

/**
 * A redirect URI an app may register: absolute, no fragment, no credentials; `https`, `http` on
 * a loopback host (or any host in a development env), or a native app's private-use scheme
 * (RFC 8252 §7.1). Matching is by exact string, so it is kept exactly as given.
 */
export function checkRedirectUri(ctx: EnvContext, raw: string, param = 'redirect_uris'): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw formParamInvalid(param, `${raw.slice(0, 100)} is not an absolute URI.`)
  }
  if (raw.includes('#')) throw formParamInvalid(param, 'A redirect URI must not contain a fragment.')
  if (url.username || url.password)
    throw formParamInvalid(param, 'A redirect URI must not contain credentials.')
  const scheme = url.protocol.slice(0, -1).toLowerCase()
  if (['javascript', 'data', 'file', 'vbscript', 'blob', 'about'].includes(scheme))
    throw formParamInvalid(param, `The ${scheme}: scheme cannot be a redirect URI.`)
  if (scheme === 'http' && ctx.type === 'production' && !isLoopbackHost(url.hostname))
    throw formParamInvalid(param, 'Production redirect URIs use https (http only on loopback hosts).')
  return raw
}

export function checkScopes(raw: string | undefined, param = 'scopes'): string {
  const words = parseScopes(raw ?? DEFAULT_APP_SCOPES)
  const unknown = words.filter((w) => !KNOWN_SCOPES.includes(w))
  if (unknown.length)
    throw formParamInvalid(
      param,
      `Unknown scope(s): ${unknown.join(', ')}. Known: ${KNOWN_SCOPES.join(', ')}.`,
    )
  return joinScopes(words)
}

function redirectUrisOf(ctx: EnvContext, input: { redirect_uris?: string[]; callback_url?: string }) {
  const list = [...(input.redirect_uris ?? []), ...(input.callback_url ? [input.callback_url] : [])]
  return [...new Set(list.map((u) => checkRedirectUri(ctx, u)))]
}

export function toOauthApplicationResource(
  ctx: EnvContext,
  r: OauthApplicationRow,
): OauthApplicationResource {
  const base = ctx.frontendUrl()
  return {
    object: 'oauth_application',
    id: r.id,
    instance_id: ctx.id,
    name: r.name,
    client_id: r.clientId,
    is_public: r.isPublic,
    pkce_required: r.pkceRequired,
    redirect_uris: r.redirectUris,
    scopes: r.scopes,
    consent_screen_enabled: r.consentScreenEnabled,
    homepage_url: r.homepageUrl,
    logo_url: r.logoUrl,
    dynamically_registered: r.dynamicallyRegistered,
    authorize_url: base + OAUTH_PATHS.authorize,
    token_fetch_url: base + OAUTH_PATHS.token,
    user_info_url: base + OAUTH_PATHS.userinfo,
    discovery_url: base + OAUTH_PATHS.discovery,
    token_introspection_url: base + OAUTH_PATHS.introspection,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}

/** The event payload: never the secret or its hash. */
const eventData = (ctx: EnvContext, r: OauthApplicationRow) => toOauthApplicationResource(ctx, r)

export const loadApplication = (db: Reader, id: string) =>
  isId('oauthApplication', id)
    ? db.select().from(oauthApplications).where(eq(oauthApplications.id, id)).get()
    : undefined

/** The app a client_id names, or undefined. */
export const applicationByClientId = (ctx: EnvContext, clientId: string): OauthApplicationRow | undefined =>
  clientId.length > 256
    ? undefined
    : ctx.db.select().from(oauthApplications).where(eq(oauthApplications.clientId, clientId)).get()

/** The secret's hash compared in constant time; public apps have none. */
export function secretMatches(app: OauthApplicationRow, secret: string): boolean {
  if (!app.secretHash) return false
  return constantTimeEqual(sha256Hex(secret), app.secretHash)
}

export function getOauthApplication(ctx: EnvContext, id: string): OauthApplicationResource {
  const row = loadApplication(ctx.db, id)
  assertThat(row, () => notFound('OAuth application'))
  return toOauthApplicationResource(ctx, row)
}

export function listOauthApplications(
  ctx: EnvContext,
  q: ListOauthApplicationsQuery,
): Page<OauthApplicationResource> {
  const page = tablePage(ctx, oauthApplications, undefined, q)
  return pageOf(
    page.rows.map((r) => toOauthApplicationResource(ctx, r)),
    page.next_cursor,
    page.total,
  )
}

export interface NewApplication extends CreateOauthApplicationBody {
  dynamically_registered?: boolean
}

/** The only answer that shows the secret, besides rotate-secret. Public apps get none. */
export function createOauthApplication(ctx: EnvContext, input: NewApplication): OauthApplicationWithSecret {
  const isPublic = input.is_public ?? input.public ?? false
  const redirectUris = redirectUrisOf(ctx, input)
  const scopes = checkScopes(input.scopes)
  const dynamic = input.dynamically_registered ?? false
  const secret = isPublic ? null : randomToken(32)
  const id = newId('oauthApplication')
  const now = ctx.clock.now()
  const row = withTx(ctx, (tx) => {
    tx.insert(oauthApplications)
      .values({
        id,
        clientId: randomToken(16),
        name: input.name,
        secretHash: secret ? sha256Hex(secret) : null,
        isPublic,
        pkceRequired: isPublic || (input.pkce_required ?? false),
        redirectUris,
        scopes,
        // Public and self-registered clients always ask (reference §9).
        consentScreenEnabled: isPublic || dynamic ? true : (input.consent_screen_enabled ?? true),
        homepageUrl: input.homepage_url ?? null,
        logoUrl: input.logo_url ?? null,
        dynamicallyRegistered: dynamic,
        createdAt: now,
        updatedAt: now,
      })
      .run()
    const created = loadApplication(tx, id)!
    emit(tx, ctx, 'oauthApplication.created', eventData(ctx, created))
    return created
  })
  return { ...toOauthApplicationResource(ctx, row), client_secret: secret }
}

const immutable = (param: string) =>
  formError('form_param_immutable', param, 'cannot be changed', `${param} cannot be changed after creation.`)

export function updateOauthApplication(
  ctx: EnvContext,
  id: string,
  input: UpdateOauthApplicationBody,
): OauthApplicationResource {
  const redirectUris =
    input.redirect_uris !== undefined || input.callback_url !== undefined
      ? redirectUrisOf(ctx, input)
      : undefined
  const scopes = input.scopes !== undefined ? checkScopes(input.scopes) : undefined
  const row = withTx(ctx, (tx) => {
    const current = loadApplication(tx, id)
    assertThat(current, () => notFound('OAuth application'))
    if (input.is_public !== undefined && input.is_public !== current.isPublic) throw immutable('is_public')
    if (input.client_id !== undefined && input.client_id !== current.clientId) throw immutable('client_id')
    const set: Partial<OauthApplicationRow> = { updatedAt: ctx.clock.now() }
    if (input.name !== undefined) set.name = input.name
    if (redirectUris !== undefined) set.redirectUris = redirectUris
    if (scopes !== undefined) set.scopes = scopes
    if (input.homepage_url !== undefined) set.homepageUrl = input.homepage_url
    if (input.logo_url !== undefined) set.logoUrl = input.logo_url
    if (input.pkce_required !== undefined) set.pkceRequired = current.isPublic || input.pkce_required
    if (input.consent_screen_enabled !== undefined) {
      if (!input.consent_screen_enabled && (current.isPublic || current.dynamicallyRegistered))
        throw formParamInvalid(
          'consent_screen_enabled',
          'Public and dynamically registered applications always show the consent screen.',
        )
      set.consentScreenEnabled = input.consent_screen_enabled
    }
    tx.update(oauthApplications).set(set).where(eq(oauthApplications.id, id)).run()
    const updated = loadApplication(tx, id)!
    emit(tx, ctx, 'oauthApplication.updated', eventData(ctx, updated))
    return updated
  })
  return toOauthApplicationResource(ctx, row)
}

/** Hard delete: every grant goes (each announced), and with them every code and token. */
export function deleteOauthApplication(ctx: EnvContext, id: string) {
  withTx(ctx, (tx) => {
    const current = loadApplication(tx, id)
    assertThat(current, () => notFound('OAuth application'))
    const grants = tx.select().from(oauthGrants).where(eq(oauthGrants.applicationId, id)).all()
    for (const g of grants) revokeGrantRow(tx, ctx, current, g)
    tx.delete(oauthApplications).where(eq(oauthApplications.id, id)).run()
    emit(tx, ctx, 'oauthApplication.deleted', { object: 'oauth_application', id, deleted: true })
  })
  return { object: 'oauth_application' as const, id, deleted: true as const }
}

/** A new secret works from now on; the old one stops at once. Shown in this answer only. */
export function rotateOauthApplicationSecret(ctx: EnvContext, id: string): OauthApplicationWithSecret {
  const secret = randomToken(32)
  const row = withTx(ctx, (tx) => {
    const current = loadApplication(tx, id)
    assertThat(current, () => notFound('OAuth application'))
    if (current.isPublic)
      throw formError(
        'oauth_application_public',
        'client_secret',
        'public applications have no secret',
        'A public OAuth application authenticates without a secret; there is nothing to rotate.',
      )
    tx.update(oauthApplications)
      .set({ secretHash: sha256Hex(secret), updatedAt: ctx.clock.now() })
      .where(eq(oauthApplications.id, id))
      .run()
    const updated = loadApplication(tx, id)!
    emit(tx, ctx, 'oauthApplication.updated', eventData(ctx, updated))
    return updated
  })
  return { ...toOauthApplicationResource(ctx, row), client_secret: secret }
}

// ---- grants ---------------------------------------------------------------------------------

export function toGrantResource(app: OauthApplicationRow, g: OauthGrantRow): OauthGrantResource {
  return {
    object: 'oauth_authorization_grant',
    id: g.id,
    oauth_application_id: app.id,
    oauth_application_name: app.name,
    oauth_application_logo_url: app.logoUrl,
    client_id: app.clientId,
    user_id: g.userId,
    scopes: parseScopes(g.scopes),
    last_used_at: g.lastUsedAt,
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  }
}

function grantsPage(
  ctx: EnvContext,
  filter: ReturnType<typeof eq>,
  q: ListGrantsQuery,
): Page<OauthGrantResource> {
  const page = tablePage(ctx, oauthGrants, filter, q)
  const ids = [...new Set(page.rows.map((g) => g.applicationId))]
  const apps = ids.length
    ? ctx.db.select().from(oauthApplications).where(inArray(oauthApplications.id, ids)).all()
    : []
  const byId = new Map(apps.map((a) => [a.id, a]))
  return pageOf(
    page.rows.map((g) => toGrantResource(byId.get(g.applicationId)!, g)),
    page.next_cursor,
    page.total,
  )
}

/** Operator view: every user's grant to this app, newest first. */
export function listApplicationGrants(ctx: EnvContext, appId: string, q: ListGrantsQuery) {
  assertThat(loadApplication(ctx.db, appId), () => notFound('OAuth application'))
  return grantsPage(ctx, eq(oauthGrants.applicationId, appId), q)
}

/** A user's grants (the apps they authorised), newest first. */
export const listUserGrants = (ctx: EnvContext, userId: string, q: ListGrantsQuery) =>
  grantsPage(ctx, eq(oauthGrants.userId, userId), q)

const loadGrant = (db: Reader, id: string) =>
  isId('oauthGrant', id) ? db.select().from(oauthGrants).where(eq(oauthGrants.id, id)).get() : undefined

export function getUserGrant(ctx: EnvContext, userId: string, id: string): OauthGrantResource {
  const g = loadGrant(ctx.db, id)
  assertThat(g && g.userId === userId, () => notFound('authorization grant'))
  return toGrantResource(loadApplication(ctx.db, g.applicationId)!, g)
}

/** Deletes the grant; its codes and tokens go with it (foreign keys), at once. */
function revokeGrantRow(tx: EnvTx, ctx: EnvContext, app: OauthApplicationRow, g: OauthGrantRow) {
  tx.delete(oauthGrants).where(eq(oauthGrants.id, g.id)).run()
  emit(tx, ctx, 'oauthGrant.revoked', toGrantResource(app, g))
}

const deletedGrant = (id: string) => ({
  object: 'oauth_authorization_grant' as const,
  id,
  deleted: true as const,
})

export function revokeApplicationGrant(ctx: EnvContext, appId: string, grantId: string) {
  withTx(ctx, (tx) => {
    const app = loadApplication(tx, appId)
    const g = loadGrant(tx, grantId)
    assertThat(app && g && g.applicationId === appId, () => notFound('authorization grant'))
    revokeGrantRow(tx, ctx, app, g)
  })
  return deletedGrant(grantId)
}

export function revokeUserGrant(ctx: EnvContext, userId: string, grantId: string) {
  withTx(ctx, (tx) => {
    const g = loadGrant(tx, grantId)
    assertThat(g && g.userId === userId, () => notFound('authorization grant'))
    revokeGrantRow(tx, ctx, loadApplication(tx, g.applicationId)!, g)
  })
  return deletedGrant(grantId)
}

/** Revokes a grant by id inside a running transaction (refresh-token reuse, code replay). */
export function revokeGrantById(tx: EnvTx, ctx: EnvContext, grantId: string) {
  const g = loadGrant(tx, grantId)
  if (!g) return
  revokeGrantRow(tx, ctx, loadApplication(tx, g.applicationId)!, g)
}

/** The user's grant to the app, if any. */
export const findGrant = (db: Reader, appId: string, userId: string) =>
  db
    .select()
    .from(oauthGrants)
    .where(and(eq(oauthGrants.applicationId, appId), eq(oauthGrants.userId, userId)))
    .get()

/**
 * Records consent: creates the user's grant to the app, or widens it with the new scopes.
 * Answers the grant row.
 */
export function consentTo(
  tx: EnvTx,
  ctx: EnvContext,
  app: OauthApplicationRow,
  userId: string,
  scopes: string[],
) {
  const now = ctx.clock.now()
  const current = findGrant(tx, app.id, userId)
  if (!current) {
    const id = newId('oauthGrant')
    tx.insert(oauthGrants)
      .values({
        id,
        applicationId: app.id,
        userId,
        scopes: joinScopes(scopes),
        createdAt: now,
        updatedAt: now,
      })
      .run()
    const g = loadGrant(tx, id)!
    emit(tx, ctx, 'oauthGrant.created', toGrantResource(app, g))
    return g
  }
  const have = parseScopes(current.scopes)
  if (scopes.every((s) => have.includes(s))) return current
  tx.update(oauthGrants)
    .set({ scopes: joinScopes([...have, ...scopes]), updatedAt: now })
    .where(eq(oauthGrants.id, current.id))
    .run()
  const g = loadGrant(tx, current.id)!
  emit(tx, ctx, 'oauthGrant.updated', toGrantResource(app, g))
  return g
}

/** Consent in its own transaction (the consent page's Allow; tests set grants up with it). */
export function grantConsent(
  ctx: EnvContext,
  appId: string,
  userId: string,
  scopes: string[],
): OauthGrantRow {
  return withTx(ctx, (tx) => {
    const app = loadApplication(tx, appId)
    assertThat(app, () => notFound('OAuth application'))
    return consentTo(tx, ctx, app, userId, scopes)
  })
}
