import { and, eq } from 'drizzle-orm'
import { randomToken, sha256Hex } from '../../crypto/secrets'
import { type ListQuery, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import { emit } from '../events/service'
import { roleByKey } from '../organizations/rbac'
import { assertOrganizationsEnabled, requireOrganization } from '../organizations/service'
import { mappingInvalid } from './errors'
import { DEFAULT_MAPPING, type Mapping, parseMappingKey, USER_TARGET } from './mapping'
import { recomputeOrgRoles } from './roles'
import { type ScimTokenRow, scimAttributeMappings, scimTokens } from './schema'

/** Tokens are `scim_` + 256 random bits; the first characters are shown to recognise one. */
const TOKEN_PREFIX = 'scim_'
const DISPLAY_CHARS = 12
/** last_used_at is written at most this often per token (it is not worth a write per request). */
const TOUCH_INTERVAL_MS = 60_000

export const toScimTokenResource = (r: ScimTokenRow) => ({
  object: 'scim_token' as const,
  id: r.id,
  organization_id: r.organizationId,
  name: r.name,
  token_prefix: r.tokenPrefix,
  status: r.revokedAt === null ? ('active' as const) : ('revoked' as const),
  created_by: r.createdBy,
  last_used_at: r.lastUsedAt,
  revoked_at: r.revokedAt,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
})

/** The organization the admin acts on (by id or slug), with organizations enabled. */
function orgOf(ctx: EnvContext, idOrSlug: string) {
  assertOrganizationsEnabled(ctx)
  return requireOrganization(ctx.db, idOrSlug)
}

/** The URL an IdP admin pastes into their provisioning configuration. */
export function scimEndpoint(ctx: EnvContext, idOrSlug: string, frontendUrl?: string) {
  const org = orgOf(ctx, idOrSlug)
  return {
    object: 'scim_endpoint' as const,
    organization_id: org.id,
    endpoint_url: `${frontendUrl ?? ctx.frontendUrl()}/scim/v2`,
  }
}

export function listScimTokens(ctx: EnvContext, idOrSlug: string, q: ListQuery) {
  const org = orgOf(ctx, idOrSlug)
  const page = tablePage(ctx, scimTokens, eq(scimTokens.organizationId, org.id), q)
  return pageOf(page.rows.map(toScimTokenResource), page.next_cursor, page.total)
}

/** Issues a token; its plaintext is in this answer only (only its SHA-256 is kept). */
export function issueScimToken(
  ctx: EnvContext,
  idOrSlug: string,
  input: { name?: string | null },
  createdBy: string | null = null,
) {
  const org = orgOf(ctx, idOrSlug)
  const token = `${TOKEN_PREFIX}${randomToken(32)}`
  const now = ctx.clock.now()
  const row: ScimTokenRow = {
    id: newId('scimToken'),
    organizationId: org.id,
    tokenHash: sha256Hex(token),
    tokenPrefix: token.slice(0, DISPLAY_CHARS),
    name: input.name ?? null,
    createdBy,
    lastUsedAt: null,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
  }
  return withTx(ctx, (tx) => {
    tx.insert(scimTokens).values(row).run()
    const resource = toScimTokenResource(row)
    emit(tx, ctx, 'scimToken.created', resource)
    return { ...resource, token }
  })
}

export function revokeScimToken(ctx: EnvContext, idOrSlug: string, tokenId: string) {
  const org = orgOf(ctx, idOrSlug)
  return withTx(ctx, (tx) => {
    const row = isId('scimToken', tokenId)
      ? tx
          .select()
          .from(scimTokens)
          .where(and(eq(scimTokens.id, tokenId), eq(scimTokens.organizationId, org.id)))
          .get()
      : undefined
    if (!row) throw notFound('SCIM token')
    if (row.revokedAt !== null) return toScimTokenResource(row)
    const now = ctx.clock.now()
    tx.update(scimTokens).set({ revokedAt: now, updatedAt: now }).where(eq(scimTokens.id, row.id)).run()
    const resource = toScimTokenResource({ ...row, revokedAt: now, updatedAt: now })
    emit(tx, ctx, 'scimToken.revoked', resource)
    return resource
  })
}

/**
 * The organization a SCIM bearer token stands for, or null (unknown or revoked). A prepared
 * statement: every SCIM request runs it.
 */
export function authenticateScimToken(ctx: EnvContext, token: string): { organizationId: string } | null {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null
  const row = ctx
    .prepared('scim.token', () =>
      ctx.client.query<{ id: string; organization_id: string; last_used_at: number | null }, [string]>(
        'select id, organization_id, last_used_at from scim_tokens where token_hash = ? and revoked_at is null',
      ),
    )
    .get(sha256Hex(token))
  if (!row) return null
  const now = ctx.clock.now()
  if (row.last_used_at === null || now - row.last_used_at >= TOUCH_INTERVAL_MS) {
    ctx.db.update(scimTokens).set({ lastUsedAt: now }).where(eq(scimTokens.id, row.id)).run()
  }
  return { organizationId: row.organization_id }
}

// ---- attribute mappings -------------------------------------------------------------------

function mappingResource(ctx: EnvContext, organizationId: string) {
  const row = ctx.db
    .select()
    .from(scimAttributeMappings)
    .where(eq(scimAttributeMappings.organizationId, organizationId))
    .get()
  return {
    object: 'scim_attribute_mapping' as const,
    organization_id: organizationId,
    mapping: row?.mapping ?? DEFAULT_MAPPING,
    is_default: !row,
    updated_at: row?.updatedAt ?? null,
  }
}

export const getScimMapping = (ctx: EnvContext, idOrSlug: string) =>
  mappingResource(ctx, orgOf(ctx, idOrSlug).id)

/** Checks every entry: a known SCIM attribute to a user field or metadata key, a group to a role. */
function checkMapping(ctx: EnvContext, mapping: Mapping) {
  for (const [key, target] of Object.entries(mapping)) {
    const parsed = parseMappingKey(key)
    if (!parsed) throw mappingInvalid(key, `${key} is not a SCIM attribute this server maps.`)
    if (parsed.kind === 'group') {
      if (!roleByKey(ctx.db, target)) throw mappingInvalid(key, `No role has the key ${target}.`)
    } else if (!USER_TARGET.test(target)) {
      throw mappingInvalid(
        key,
        'A user attribute maps to first_name, last_name, public_metadata.<key> or private_metadata.<key>.',
      )
    }
  }
}

/** Replaces the override; `{}` reverts to the defaults. Members' roles follow the new group map. */
export function replaceScimMapping(ctx: EnvContext, idOrSlug: string, mapping: Mapping) {
  const org = orgOf(ctx, idOrSlug)
  checkMapping(ctx, mapping)
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    if (Object.keys(mapping).length === 0) {
      tx.delete(scimAttributeMappings).where(eq(scimAttributeMappings.organizationId, org.id)).run()
    } else {
      tx.insert(scimAttributeMappings)
        .values({ organizationId: org.id, mapping, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: scimAttributeMappings.organizationId,
          set: { mapping, updatedAt: now },
        })
        .run()
    }
    recomputeOrgRoles(tx, ctx, org.id)
    emit(tx, ctx, 'scimAttributeMapping.updated', {
      object: 'scim_attribute_mapping',
      organization_id: org.id,
    })
  })
  return mappingResource(ctx, org.id)
}
