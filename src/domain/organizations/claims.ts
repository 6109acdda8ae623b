import { and, eq } from 'drizzle-orm'
import type { EnvContext } from '../../tenancy/context'
import type { TemplateOrg } from '../jwt-templates/context'
import { rolePermissionKeys } from './rbac'
import { organizationMemberships, organizations, roles } from './schema'

/** The session token's `o` claim (clerk-surface §2.4). */
export interface OrgClaim {
  id: string
  slg: string
  /** The role key without `org:` (`admin`). */
  rol: string
  /** The role's custom permissions without `org:` (`invoices:read,invoices:write`); never `sys_` ones. */
  per: string
}

const bare = (key: string) => key.replace(/^org:/, '')

/**
 * The active organization's claim for a session token, or null when the user is no longer a
 * member (so the next mint after a removal drops it). Token refresh is the hot path: one
 * prepared single-row read of the membership; the org's slug and the role's `rol`/`per` come
 * from caches on the env handle, which writes to organizations and roles invalidate.
 */
export function orgClaim(ctx: EnvContext, userId: string, organizationId: string): OrgClaim | null {
  const membership = ctx
    .prepared('organizations.claimMembership', () =>
      ctx.client.query<{ role_id: string }, [string, string]>(
        'select role_id from organization_memberships where organization_id = ? and user_id = ?',
      ),
    )
    .get(organizationId, userId)
  if (!membership) return null
  const slugs = ctx.cached('organizations.slugs', () => new Map<string, string>())
  let slg = slugs.get(organizationId)
  if (slg === undefined) {
    slg = ctx.client
      .query<{ slug: string }, [string]>('select slug from organizations where id = ?')
      .get(organizationId)?.slug
    if (slg === undefined) return null
    slugs.set(organizationId, slg)
  }
  const roleClaims = ctx.cached(
    'organizations.roleClaims',
    () => new Map<string, { rol: string; per: string }>(),
  )
  let role = roleClaims.get(membership.role_id)
  if (!role) {
    const row = ctx.client
      .query<{ key: string; per: string | null }, [string, string]>(
        `select r.key as key, (select group_concat(k, ',') from (
            select p.key as k from role_permissions rp join permissions p on p.id = rp.permission_id
            where rp.role_id = ? and p.type = 'user' order by p.key)) as per
         from roles r where r.id = ?`,
      )
      .get(membership.role_id, membership.role_id)
    if (!row) return null
    role = { rol: bare(row.key), per: row.per ? row.per.split(',').map(bare).join(',') : '' }
    roleClaims.set(membership.role_id, role)
  }
  return { id: organizationId, slg, rol: role.rol, per: role.per }
}

/** The session's active organization, as JWT templates' `org` / `org_membership` shortcodes see it. */
export function templateOrg(
  ctx: EnvContext,
  s: { userId: string; lastActiveOrganizationId: string | null },
): TemplateOrg | null {
  if (!s.lastActiveOrganizationId) return null
  const row = ctx.db
    .select({ org: organizations, membership: organizationMemberships, role: roles })
    .from(organizationMemberships)
    .innerJoin(organizations, eq(organizations.id, organizationMemberships.organizationId))
    .innerJoin(roles, eq(roles.id, organizationMemberships.roleId))
    .where(
      and(
        eq(organizationMemberships.userId, s.userId),
        eq(organizationMemberships.organizationId, s.lastActiveOrganizationId),
      ),
    )
    .get()
  if (!row) return null
  return {
    id: row.org.id,
    name: row.org.name,
    slug: row.org.slug,
    imageUrl: row.org.imageUrl,
    publicMetadata: row.org.publicMetadata,
    role: row.role.key,
    permissions: rolePermissionKeys(ctx.db, row.role.id),
    membershipPublicMetadata: row.membership.publicMetadata,
  }
}

/** Is the user a member of the organization? (a session may only make such one active) */
export function isMember(ctx: EnvContext, userId: string, organizationId: string): boolean {
  return !!ctx.db
    .select({ id: organizationMemberships.id })
    .from(organizationMemberships)
    .where(
      and(
        eq(organizationMemberships.userId, userId),
        eq(organizationMemberships.organizationId, organizationId),
      ),
    )
    .get()
}
