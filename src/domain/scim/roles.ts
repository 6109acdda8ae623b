import { eq } from 'drizzle-orm'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { roleByKey } from '../organizations/rbac'
import { findMembership, setMembershipRole } from '../organizations/service'
import { DEFAULT_MAPPING, groupRoles, type Mapping } from './mapping'
import { scimAttributeMappings, scimGroupMembers, scimGroups, scimUsers } from './schema'

type Db = EnvContext['db'] | EnvTx

/** The organization's mapping: its override, or the defaults. */
export function effectiveMapping(db: Db, organizationId: string): Mapping {
  const row = db
    .select({ mapping: scimAttributeMappings.mapping })
    .from(scimAttributeMappings)
    .where(eq(scimAttributeMappings.organizationId, organizationId))
    .get()
  return row?.mapping ?? DEFAULT_MAPPING
}

/** Display names (lower-cased) of the directory groups a provisioned user is in. */
function groupNamesOf(db: Db, userId: string): Set<string> {
  return new Set(
    db
      .select({ name: scimGroups.displayName })
      .from(scimGroupMembers)
      .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
      .where(eq(scimGroupMembers.userId, userId))
      .all()
      .map((r) => r.name.toLowerCase()),
  )
}

/**
 * Brings a provisioned member's role in line with the groups they are in: the first group of
 * the mapping they belong to decides, otherwise the instance's default role. A mapping without
 * groups leaves roles alone (an admin may have set them).
 */
export function syncMemberRole(
  tx: EnvTx,
  ctx: EnvContext,
  organizationId: string,
  userId: string,
  mapping?: Mapping,
) {
  const map = groupRoles(mapping ?? effectiveMapping(tx, organizationId))
  if (!map.length) return
  const m = findMembership(tx, organizationId, userId)
  if (!m) return
  const names = groupNamesOf(tx, userId)
  const key =
    map.find((g) => names.has(g.displayName.toLowerCase()))?.role ?? ctx.settings().organizations.default_role
  const role = roleByKey(tx, key)
  if (role) setMembershipRole(tx, ctx, m, role)
}

/** Re-derives every provisioned member's role (after the mapping changed). */
export function recomputeOrgRoles(tx: EnvTx, ctx: EnvContext, organizationId: string) {
  const mapping = effectiveMapping(tx, organizationId)
  if (!groupRoles(mapping).length) return
  const ids = tx
    .select({ id: scimUsers.userId })
    .from(scimUsers)
    .where(eq(scimUsers.organizationId, organizationId))
    .all()
  for (const { id } of ids) syncMemberRole(tx, ctx, organizationId, id, mapping)
}
