import { and, eq, isNull, lt } from 'drizzle-orm'
import { seal } from '../../crypto/seal'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { AppError, assertThat, formError, formParamMissing, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import { literalRefusal } from '../../lib/private-network'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { countAccountsOfProvider } from '../external-accounts/service'
import type {
  CreateOauthProviderBody,
  ListOauthProvidersQuery,
  OauthProviderResource,
  UpdateOauthProviderBody,
} from './model'
import { gitlabEndpoints, isMicrosoftTenant, type PresetOptions, presetOf } from './presets'
import { probeProvider } from './probe'
import { type OauthFlowRow, type OauthProviderRow, oauthFlows, oauthProviders } from './schema'
import { callbackUrlOf, discover, ecSigningKey, privateKeyAad, providerConfig, secretAad } from './upstream'

export type { OauthProviderRow }

export function toOauthProviderResource(ctx: EnvContext, row: OauthProviderRow): OauthProviderResource {
  const cfg = providerConfig(ctx, row)
  return {
    object: 'oauth_provider',
    id: row.id,
    provider_key: row.providerKey,
    provider_kind: row.providerKind,
    preset: row.preset,
    strategy: `oauth_${row.providerKey}`,
    name: row.name,
    enabled: row.enabled,
    authenticatable: row.authenticatable,
    client_id: row.clientId,
    has_client_secret: row.clientSecret !== null,
    scopes: cfg.scopes,
    discovery_url: row.discoveryUrl,
    issuer: cfg.protocol === 'oidc' ? cfg.as.issuer : null,
    authorization_url: cfg.as.authorization_endpoint ?? null,
    token_url: cfg.as.token_endpoint ?? null,
    userinfo_url: cfg.as.userinfo_endpoint ?? null,
    jwks_url: cfg.as.jwks_uri ?? null,
    pkce: cfg.pkce,
    token_endpoint_auth_method: cfg.client.token_endpoint_auth_method as string,
    attribute_mapping: { ...cfg.mapping } as Record<string, string | boolean>,
    tenant: row.presetOptions?.tenant ?? null,
    base_url: row.presetOptions?.base_url ?? null,
    team_id: row.presetOptions?.team_id ?? null,
    key_id: row.presetOptions?.key_id ?? null,
    has_private_key: row.privateKey !== null,
    callback_url: callbackUrlOf(ctx, row.providerKey),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  }
}

const load = (db: EnvContext['db'] | EnvTx, id: string) =>
  db
    .select()
    .from(oauthProviders)
    .where(and(eq(oauthProviders.id, id), isNull(oauthProviders.deletedAt)))
    .get()

function requireRow(ctx: EnvContext, id: string): OauthProviderRow {
  const row = isId('oauthProvider', id) ? load(ctx.db, id) : undefined
  assertThat(row, () => notFound('OAuth provider'))
  return row
}

/** A live provider by its key (the callback path), or null. */
export const providerByKey = (ctx: EnvContext, key: string): OauthProviderRow | null =>
  ctx.db
    .select()
    .from(oauthProviders)
    .where(and(eq(oauthProviders.providerKey, key), isNull(oauthProviders.deletedAt)))
    .get() ?? null

/** A provider by id, deleted ones included (an external account's provider). */
export const providerById = (ctx: EnvContext, id: string): OauthProviderRow | null =>
  ctx.db.select().from(oauthProviders).where(eq(oauthProviders.id, id)).get() ?? null

/** The env's live providers, oldest first (cached per handle: the factor source reads it on every sign-in). */
export const liveProviders = (ctx: EnvContext): readonly OauthProviderRow[] =>
  ctx.cached('oauth-providers', () =>
    ctx.db
      .select()
      .from(oauthProviders)
      .where(isNull(oauthProviders.deletedAt))
      .orderBy(oauthProviders.createdAt, oauthProviders.id)
      .all(),
  )

export function getOauthProvider(ctx: EnvContext, id: string): OauthProviderResource {
  return toOauthProviderResource(ctx, requireRow(ctx, id))
}

/** Newest first; deleted providers are not listed. */
export function listOauthProviders(ctx: EnvContext, q: ListOauthProvidersQuery): Page<OauthProviderResource> {
  const page = tablePage(ctx, oauthProviders, isNull(oauthProviders.deletedAt), q)
  return pageOf(
    page.rows.map((r) => toOauthProviderResource(ctx, r)),
    page.next_cursor,
    page.total,
  )
}

/**
 * An endpoint the server will call or send browsers to: a URL, https in production envs and
 * not a loopback or private literal there (development envs may use a local IdP over http).
 */
function checkUrl(ctx: EnvContext, param: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw formError('form_param_format_invalid', param, 'is not a URL', `${param} must be an absolute URL.`)
  }
  const production = ctx.type === 'production'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !production))
    throw formError(
      'form_param_format_invalid',
      param,
      'must use https',
      `${param} must be an https URL${production ? '' : ' (http is accepted in development environments)'}.`,
    )
  if (url.username || url.password || url.hash)
    throw formError(
      'form_param_format_invalid',
      param,
      'is invalid',
      `${param} must not carry credentials or a fragment.`,
    )
  if (production && literalRefusal(url.hostname))
    throw formError('form_param_value_invalid', param, 'is not public', `${param} must be a public host.`)
  return url.toString()
}

const immutable = (param: string) =>
  formError(
    'form_param_immutable',
    param,
    'cannot be changed',
    `${param} cannot be changed; create a new provider.`,
  )

const notForKind = (param: string, kind: string) =>
  formError('form_param_unknown', param, 'does not apply', `${param} does not apply to a ${kind} provider.`)

const discoveryFailed = (message: string) =>
  formError(
    'oauth_provider_discovery_failed',
    'discovery_url',
    'could not be read',
    `The discovery document could not be read: ${message}`,
  )

/** Reads a custom OIDC provider's endpoints from its discovery document (before any transaction). */
async function discoveredEndpoints(ctx: EnvContext, discoveryUrl: string) {
  try {
    const as = await discover(ctx, discoveryUrl)
    for (const [param, v] of [
      ['authorization_endpoint', as.authorization_endpoint],
      ['token_endpoint', as.token_endpoint],
      ['jwks_uri', as.jwks_uri],
    ] as const)
      if (!v) throw new Error(`it has no ${param}.`)
    return {
      issuer: as.issuer,
      authorizationUrl: checkUrl(ctx, 'discovery_url', as.authorization_endpoint!),
      tokenUrl: checkUrl(ctx, 'discovery_url', as.token_endpoint!),
      userinfoUrl: as.userinfo_endpoint ? checkUrl(ctx, 'discovery_url', as.userinfo_endpoint) : null,
      jwksUrl: checkUrl(ctx, 'discovery_url', as.jwks_uri!),
      revocationUrl: as.revocation_endpoint ? checkUrl(ctx, 'discovery_url', as.revocation_endpoint) : null,
    }
  } catch (err) {
    if (err instanceof AppError) throw err
    throw discoveryFailed(err instanceof Error ? err.message : String(err))
  }
}

type SettingsInput = {
  [K in keyof PresetOptions | 'private_key']?: string | null
}
const SETTING_PARAMS = ['tenant', 'base_url', 'team_id', 'key_id', 'private_key'] as const

/**
 * The preset settings of a create or update (Microsoft's tenant, GitLab's base URL, Apple's
 * signing key): each only where the preset takes it, checked, the key sealed; null clears.
 */
function presetSettings(
  ctx: EnvContext,
  id: string,
  row: Pick<OauthProviderRow, 'preset' | 'providerKind' | 'presetOptions' | 'privateKey'>,
  input: SettingsInput,
): Pick<OauthProviderRow, 'presetOptions' | 'privateKey'> {
  const preset = row.preset ? presetOf(row.preset) : undefined
  const options: PresetOptions = { ...(row.presetOptions ?? {}) }
  let privateKey = row.privateKey
  for (const param of SETTING_PARAMS) {
    const value = input[param]
    if (value === undefined) continue
    if (!preset?.options?.includes(param)) throw notForKind(param, preset?.name ?? row.providerKind)
    if (param === 'private_key') {
      if (value !== null && !ecSigningKey(value))
        throw formError(
          'form_param_format_invalid',
          'private_key',
          'is not an ES256 key',
          'private_key must be the .p8 key (PKCS#8 PEM, P-256) downloaded from Apple.',
        )
      privateKey = value === null ? null : seal(ctx.dataKey, value, privateKeyAad(id))
      continue
    }
    if (value === null) {
      delete options[param]
      continue
    }
    if (param === 'tenant' && !isMicrosoftTenant(value.toLowerCase()))
      throw formError(
        'form_param_value_invalid',
        'tenant',
        'is invalid',
        'tenant is common, organizations, consumers or a tenant id (GUID).',
      )
    options[param] =
      param === 'tenant'
        ? value.toLowerCase()
        : param === 'base_url'
          ? gitlabEndpoints(checkUrl(ctx, 'base_url', value)).issuer
          : value
  }
  return { presetOptions: Object.keys(options).length ? options : null, privateKey }
}

function assertKeyFree(tx: EnvTx, key: string) {
  // Soft-deleted rows keep their key: old external accounts still name it.
  const taken = tx
    .select({ id: oauthProviders.id })
    .from(oauthProviders)
    .where(eq(oauthProviders.providerKey, key))
    .get()
  if (taken)
    throw formError(
      'form_identifier_exists',
      'provider_key',
      'is taken',
      `A provider with key ${key} already exists.`,
    )
}

export async function createOauthProvider(
  ctx: EnvContext,
  input: CreateOauthProviderBody,
): Promise<OauthProviderResource> {
  const kind = input.provider_kind
  const id = newId('oauthProvider')
  const now = ctx.clock.now()
  const row: OauthProviderRow = {
    id,
    providerKey: '',
    providerKind: kind,
    preset: null,
    name: input.name ?? '',
    enabled: input.enabled ?? true,
    authenticatable: input.authenticatable ?? true,
    clientId: input.client_id,
    clientSecret: input.client_secret ? seal(ctx.dataKey, input.client_secret, secretAad(id)) : null,
    scopes: input.scopes ?? null,
    discoveryUrl: null,
    issuer: null,
    authorizationUrl: null,
    tokenUrl: null,
    userinfoUrl: null,
    jwksUrl: null,
    revocationUrl: null,
    pkce: input.pkce ?? null,
    tokenAuthMethod: input.token_endpoint_auth_method ?? null,
    attributeMapping: input.attribute_mapping ?? {},
    privateKey: null,
    presetOptions: null,
    deletedAt: null,
    createdAt: now,
    updatedAt: now,
  }
  if (kind === 'preset') {
    if (!input.preset) throw formParamMissing('preset')
    const preset = presetOf(input.preset)!
    for (const p of [
      'discovery_url',
      'authorization_url',
      'token_url',
      'userinfo_url',
      'revocation_url',
    ] as const)
      if (input[p] !== undefined) throw notForKind(p, 'preset')
    row.preset = preset.id
    row.providerKey = input.provider_key ?? preset.id
    row.name ||= preset.name
  } else {
    if (input.preset !== undefined) throw notForKind('preset', kind)
    if (!input.provider_key) throw formParamMissing('provider_key')
    if (!input.provider_key.startsWith('custom_'))
      throw formError(
        'form_param_format_invalid',
        'provider_key',
        'must start with custom_',
        'A custom provider’s key starts with custom_ (its strategy is oauth_custom_…).',
      )
    row.providerKey = input.provider_key
    row.name ||= input.provider_key.slice('custom_'.length)
  }
  if (kind === 'custom_oidc') {
    if (!input.discovery_url) throw formParamMissing('discovery_url')
    for (const p of ['authorization_url', 'token_url', 'userinfo_url', 'revocation_url'] as const)
      if (input[p] !== undefined) throw notForKind(p, kind)
    row.discoveryUrl = checkUrl(ctx, 'discovery_url', input.discovery_url)
    Object.assign(row, await discoveredEndpoints(ctx, row.discoveryUrl))
  }
  if (kind === 'custom_oauth2') {
    if (input.discovery_url !== undefined) throw notForKind('discovery_url', kind)
    for (const p of ['authorization_url', 'token_url', 'userinfo_url'] as const)
      if (!input[p]) throw formParamMissing(p)
    row.authorizationUrl = checkUrl(ctx, 'authorization_url', input.authorization_url!)
    row.tokenUrl = checkUrl(ctx, 'token_url', input.token_url!)
    row.userinfoUrl = checkUrl(ctx, 'userinfo_url', input.userinfo_url!)
    if (input.revocation_url) row.revocationUrl = checkUrl(ctx, 'revocation_url', input.revocation_url)
    if (!input.attribute_mapping?.user_id) throw formParamMissing('attribute_mapping.user_id')
  }
  if (row.tokenAuthMethod !== 'none' && row.clientSecret === null && kind !== 'preset')
    throw formParamMissing('client_secret')
  Object.assign(row, presetSettings(ctx, id, row, input))
  const resource = withTx(ctx, (tx) => {
    assertKeyFree(tx, row.providerKey)
    tx.insert(oauthProviders).values(row).run()
    const created = toOauthProviderResource(ctx, row)
    emit(tx, ctx, 'oauthProvider.created', created)
    return created
  })
  ctx.invalidate()
  return resource
}

export async function updateOauthProvider(
  ctx: EnvContext,
  id: string,
  input: UpdateOauthProviderBody,
): Promise<OauthProviderResource> {
  const current = requireRow(ctx, id)
  for (const p of ['provider_kind', 'provider_key', 'preset'] as const)
    if (input[p] !== undefined) throw immutable(p)
  const kind = current.providerKind
  const set: Partial<OauthProviderRow> = {}
  if (input.name !== undefined) set.name = input.name
  if (input.enabled !== undefined) set.enabled = input.enabled
  if (input.authenticatable !== undefined) set.authenticatable = input.authenticatable
  if (input.client_id !== undefined) set.clientId = input.client_id
  if (input.client_secret !== undefined)
    set.clientSecret =
      input.client_secret === null ? null : seal(ctx.dataKey, input.client_secret, secretAad(id))
  if (input.scopes !== undefined) set.scopes = input.scopes
  if (input.pkce !== undefined) set.pkce = input.pkce
  if (input.token_endpoint_auth_method !== undefined) set.tokenAuthMethod = input.token_endpoint_auth_method
  if (input.attribute_mapping !== undefined) {
    if (kind === 'custom_oauth2' && !input.attribute_mapping.user_id)
      throw formParamMissing('attribute_mapping.user_id')
    set.attributeMapping = input.attribute_mapping
  }
  if (kind !== 'custom_oidc' && input.discovery_url !== undefined) throw notForKind('discovery_url', kind)
  if (kind !== 'custom_oauth2')
    for (const p of ['authorization_url', 'token_url', 'userinfo_url', 'revocation_url'] as const)
      if (input[p] !== undefined) throw notForKind(p, kind)
  if (kind === 'custom_oidc' && input.discovery_url !== undefined) {
    set.discoveryUrl = checkUrl(ctx, 'discovery_url', input.discovery_url)
    Object.assign(set, await discoveredEndpoints(ctx, set.discoveryUrl))
  }
  if (kind === 'custom_oauth2') {
    if (input.authorization_url)
      set.authorizationUrl = checkUrl(ctx, 'authorization_url', input.authorization_url)
    if (input.token_url) set.tokenUrl = checkUrl(ctx, 'token_url', input.token_url)
    if (input.userinfo_url !== undefined) {
      if (input.userinfo_url === null) throw formParamMissing('userinfo_url')
      set.userinfoUrl = checkUrl(ctx, 'userinfo_url', input.userinfo_url)
    }
    if (input.revocation_url !== undefined)
      set.revocationUrl =
        input.revocation_url === null ? null : checkUrl(ctx, 'revocation_url', input.revocation_url)
  }
  if (SETTING_PARAMS.some((p) => input[p] !== undefined))
    Object.assign(set, presetSettings(ctx, id, current, input))
  const resource = withTx(ctx, (tx) => {
    const row = load(tx, id)
    assertThat(row, () => notFound('OAuth provider'))
    const next = { ...row, ...set, updatedAt: ctx.clock.now() }
    if (next.tokenAuthMethod !== 'none' && next.clientSecret === null && kind !== 'preset')
      throw formParamMissing('client_secret')
    tx.update(oauthProviders).set(next).where(eq(oauthProviders.id, id)).run()
    const updated = toOauthProviderResource(ctx, next)
    emit(tx, ctx, 'oauthProvider.updated', updated)
    return updated
  })
  ctx.invalidate()
  return resource
}

/** Soft delete, refused while external accounts still link to the provider. */
export function deleteOauthProvider(ctx: EnvContext, id: string) {
  requireRow(ctx, id)
  const deleted = withTx(ctx, (tx) => {
    const row = load(tx, id)
    assertThat(row, () => notFound('OAuth provider'))
    const linked = countAccountsOfProvider(tx, id)
    if (linked > 0)
      throw new AppError(409, [
        {
          code: 'oauth_provider_in_use',
          message: 'provider in use',
          long_message: `${linked} external account${linked === 1 ? '' : 's'} still link${linked === 1 ? 's' : ''} to this provider; unlink them (or delete their users) first, or disable the provider.`,
          meta: { external_accounts: linked },
        },
      ])
    const now = ctx.clock.now()
    tx.update(oauthProviders)
      .set({ deletedAt: now, enabled: false, updatedAt: now })
      .where(eq(oauthProviders.id, id))
      .run()
    tx.delete(oauthFlows).where(eq(oauthFlows.providerId, id)).run()
    const gone = { object: 'oauth_provider' as const, id, deleted: true as const }
    emit(tx, ctx, 'oauthProvider.deleted', { ...gone, provider_key: row.providerKey })
    return gone
  })
  ctx.invalidate()
  return deleted
}

// --- flow state (the redirect factor's server-side half) ---

export function saveFlow(tx: EnvTx, row: OauthFlowRow) {
  tx.insert(oauthFlows).values(row).run()
}

/** Takes the flow of a challenge out (single use); null when there is none. */
export function takeFlow(tx: EnvTx, challengeId: string): OauthFlowRow | null {
  const row = tx.select().from(oauthFlows).where(eq(oauthFlows.challengeId, challengeId)).get()
  if (!row) return null
  tx.delete(oauthFlows).where(eq(oauthFlows.challengeId, challengeId)).run()
  return row
}

export const peekFlow = (ctx: EnvContext, challengeId: string): OauthFlowRow | null =>
  ctx.db.select().from(oauthFlows).where(eq(oauthFlows.challengeId, challengeId)).get() ?? null

/** Drops flows nobody came back from. */
export function purgeExpiredFlows(ctx: EnvContext) {
  ctx.db.delete(oauthFlows).where(lt(oauthFlows.expireAt, ctx.clock.now())).run()
}

/** The dry-run probe (no state is changed, nobody is redirected). */
export const testOauthProvider = (ctx: EnvContext, id: string) => probeProvider(ctx, requireRow(ctx, id))

/** What a sign-in page shows (`GET /v1/environment`): the enabled providers, by strategy. */
export function socialConnections(ctx: EnvContext) {
  const out: Record<
    string,
    { strategy: string; provider_key: string; name: string; authenticatable: boolean }
  > = {}
  for (const p of liveProviders(ctx))
    if (p.enabled)
      out[`oauth_${p.providerKey}`] = {
        strategy: `oauth_${p.providerKey}`,
        provider_key: p.providerKey,
        name: p.name,
        authenticatable: p.authenticatable,
      }
  return out
}
