import { and, asc, count, eq, inArray, sql } from 'drizzle-orm'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { formError, formIdentifierExists, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import type { InstanceSettings } from '../../tenancy/settings'
import { emit } from '../events/service'
import { badRequest } from './errors'
import {
  organizationInvitations,
  organizationMemberships,
  type PermissionRow,
  permissions,
  type RoleRow,
  rolePermissions,
  roles,
} from './schema'

type Db = EnvContext['db'] | EnvTx

/** After a committed change to what session tokens claim (orgClaim caches roles and slugs). */
export function claimsChanged<T>(ctx: EnvContext, result: T): T {
  ctx.invalidate()
  return result
}

/** The permission that runs an organization: every org keeps a member holding it. */
export const MANAGE_MEMBERS = 'org:sys_memberships:manage'
export const READ_MEMBERS = 'org:sys_memberships:read'

export const SYSTEM_PERMISSIONS: ReadonlyArray<readonly [key: string, name: string, description: string]> = [
  [
    'org:sys_profile:manage',
    'Manage organization',
    "Update the organization's name, slug, logo and metadata.",
  ],
  ['org:sys_profile:delete', 'Delete organization', 'Delete the organization.'],
  ['org:sys_memberships:read', 'Read members', 'See the members of the organization.'],
  ['org:sys_memberships:manage', 'Manage members', 'Invite, remove and change the role of members.'],
  ['org:sys_domains:read', 'Read domains', "See the organization's verified domains."],
  ['org:sys_domains:manage', 'Manage domains', 'Add, verify and remove verified domains.'],
  ['org:sys_enterprise_sso:manage', 'Manage enterprise SSO', "Manage the organization's SSO connections."],
  ['org:sys_provisioning:read', 'Read provisioning', "See the organization's SCIM provisioning setup."],
  [
    'org:sys_provisioning:manage',
    'Manage provisioning',
    "Issue and revoke the organization's SCIM tokens and set its attribute mapping.",
  ],
]

const DEFAULT_ROLES = [
  {
    key: 'org:admin',
    name: 'Admin',
    description: 'Every system permission: manages the organization and its members.',
    permissions: SYSTEM_PERMISSIONS.map(([key]) => key),
  },
  {
    key: 'org:member',
    name: 'Member',
    description: 'Sees the organization and its members.',
    permissions: [READ_MEMBERS],
  },
]

const ROLE_KEY = /^org:[a-z0-9_]{1,64}$/
const PERMISSION_KEY = /^org:[a-z0-9_]{1,64}:[a-z0-9_]{1,64}$/

/**
 * System permissions and the default roles exist in every env. They are inserted (idempotently,
 * under the write lock) the first time anything about organizations is used, which also covers
 * envs created before organizations existed. Default roles are only made with the system
 * permissions, so a deleted custom setup never comes back.
 */
export function ensureRbac(ctx: EnvContext) {
  ctx.cached('organizations.rbacSeeded', () => {
    const have = ctx.db
      .select({ n: count() })
      .from(permissions)
      .where(eq(permissions.type, 'system'))
      .get()?.n
    if (have === SYSTEM_PERMISSIONS.length) return true
    withTx(ctx, (tx) => {
      const now = ctx.clock.now()
      const first = !tx
        .select({ id: permissions.id })
        .from(permissions)
        .where(eq(permissions.type, 'system'))
        .get()
      for (const [key, name, description] of SYSTEM_PERMISSIONS) {
        tx.insert(permissions)
          .values({
            id: newId('permission'),
            key,
            name,
            description,
            type: 'system',
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing({ target: permissions.key })
          .run()
      }
      if (!first) return
      for (const r of DEFAULT_ROLES) {
        if (tx.select({ id: roles.id }).from(roles).where(eq(roles.key, r.key)).get()) continue
        const id = newId('role')
        tx.insert(roles)
          .values({
            id,
            key: r.key,
            name: r.name,
            description: r.description,
            createdAt: now,
            updatedAt: now,
          })
          .run()
        setRolePermissions(tx, id, permissionIdsByKey(tx, r.permissions))
      }
    })
    return true
  })
}

// ---- reads --------------------------------------------------------------------------------

export const roleByKey = (db: Db, key: string): RoleRow | null =>
  db.select().from(roles).where(eq(roles.key, key)).get() ?? null

export const roleById = (db: Db, id: string): RoleRow | null =>
  isId('role', id) ? (db.select().from(roles).where(eq(roles.id, id)).get() ?? null) : null

/** Every permission key a role grants, system ones included, sorted. */
export function rolePermissionKeys(db: Db, roleId: string): string[] {
  return db
    .select({ key: permissions.key })
    .from(rolePermissions)
    .innerJoin(permissions, eq(permissions.id, rolePermissions.permissionId))
    .where(eq(rolePermissions.roleId, roleId))
    .orderBy(asc(permissions.key))
    .all()
    .map((r) => r.key)
}

export const roleHas = (db: Db, roleId: string, permission: string) =>
  !!db
    .select({ id: permissions.id })
    .from(rolePermissions)
    .innerJoin(permissions, eq(permissions.id, rolePermissions.permissionId))
    .where(and(eq(rolePermissions.roleId, roleId), eq(permissions.key, permission)))
    .get()

function permissionIdsByKey(db: Db, keys: string[]): string[] {
  if (!keys.length) return []
  const rows = db
    .select({ id: permissions.id, key: permissions.key })
    .from(permissions)
    .where(inArray(permissions.key, keys))
    .all()
  return keys.map((k) => rows.find((r) => r.key === k)!.id)
}

function setRolePermissions(tx: EnvTx, roleId: string, permissionIds: string[]) {
  tx.delete(rolePermissions).where(eq(rolePermissions.roleId, roleId)).run()
  if (permissionIds.length)
    tx.insert(rolePermissions)
      .values(permissionIds.map((permissionId) => ({ roleId, permissionId })))
      .run()
}

/**
 * A role given by key on the wire (`role: "org:admin"`); a missing one is a form error on
 * `param`.
 */
export function requireRoleByKey(db: Db, key: string, param = 'role'): RoleRow {
  const role = roleByKey(db, key)
  if (!role) throw formError('form_param_value_invalid', param, 'is unknown', `No role has the key ${key}.`)
  return role
}

// ---- invariants ---------------------------------------------------------------------------

/** Members of the organization whose role may manage members. */
export function managerCount(db: Db, organizationId: string): number {
  // db.get() of raw SQL answers a positional row; all() answers named columns.
  return (
    db.all<{ n: number }>(sql`
      select count(*) as n from ${organizationMemberships} m
      where m.organization_id = ${organizationId} and exists (
        select 1 from ${rolePermissions} rp join ${permissions} p on p.id = rp.permission_id
        where rp.role_id = m.role_id and p.key = ${MANAGE_MEMBERS})`)[0]?.n ?? 0
  )
}

/** Organizations that have members but none who may manage members. */
function orgsWithoutManager(db: Db): string[] {
  return db
    .all<{ id: string }>(sql`
      select distinct m.organization_id as id from ${organizationMemberships} m
      where not exists (
        select 1 from ${organizationMemberships} m2
        join ${rolePermissions} rp on rp.role_id = m2.role_id
        join ${permissions} p on p.id = rp.permission_id
        where m2.organization_id = m.organization_id and p.key = ${MANAGE_MEMBERS})`)
    .map((r) => r.id)
}

const creatorRoleNeedsManage = () =>
  badRequest(
    'organization_creator_role_missing_permissions',
    'creator role must manage members',
    `The creator role must keep the ${MANAGE_MEMBERS} permission.`,
  )

/** Instance settings: the creator and default roles exist; the creator role manages members. */
export function checkOrganizationSettings(ctx: EnvContext, s: InstanceSettings['organizations']) {
  ensureRbac(ctx)
  const creator = roleByKey(ctx.db, s.creator_role)
  if (!creator)
    throw formError(
      'form_param_value_invalid',
      'organizations.creator_role',
      'is unknown',
      `No role has the key ${s.creator_role}.`,
    )
  if (!roleHas(ctx.db, creator.id, MANAGE_MEMBERS)) throw creatorRoleNeedsManage()
  if (!roleByKey(ctx.db, s.default_role))
    throw formError(
      'form_param_value_invalid',
      'organizations.default_role',
      'is unknown',
      `No role has the key ${s.default_role}.`,
    )
}

// ---- wire ---------------------------------------------------------------------------------

export const toPermissionResource = (p: PermissionRow) => ({
  object: 'permission' as const,
  id: p.id,
  key: p.key,
  name: p.name,
  description: p.description,
  type: p.type,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
})
export type PermissionResource = ReturnType<typeof toPermissionResource>

function rolePermissionRows(db: Db, roleIds: string[]) {
  if (!roleIds.length) return []
  return db
    .select({ roleId: rolePermissions.roleId, permission: permissions })
    .from(rolePermissions)
    .innerJoin(permissions, eq(permissions.id, rolePermissions.permissionId))
    .where(inArray(rolePermissions.roleId, roleIds))
    .orderBy(asc(permissions.key))
    .all()
}

function toRoleResources(ctx: EnvContext, db: Db, rows: RoleRow[]) {
  const perms = rolePermissionRows(
    db,
    rows.map((r) => r.id),
  )
  const s = ctx.settings().organizations
  return rows.map((r) => {
    const own = perms.filter((p) => p.roleId === r.id).map((p) => toPermissionResource(p.permission))
    return {
      object: 'role' as const,
      id: r.id,
      key: r.key,
      name: r.name,
      description: r.description,
      is_creator_eligible: own.some((p) => p.key === MANAGE_MEMBERS),
      is_creator_role: r.key === s.creator_role,
      is_default_role: r.key === s.default_role,
      permissions: own,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    }
  })
}
export type RoleResource = ReturnType<typeof toRoleResources>[number]
const toRoleResource = (ctx: EnvContext, db: Db, r: RoleRow) => toRoleResources(ctx, db, [r])[0]!

// ---- roles --------------------------------------------------------------------------------

export function listRoles(
  ctx: EnvContext,
  q: { limit?: number; cursor?: string; include_total_count?: boolean },
): Page<RoleResource> {
  ensureRbac(ctx)
  const page = tablePage(ctx, roles, undefined, q, '+created_at')
  return pageOf(toRoleResources(ctx, ctx.db, page.rows), page.next_cursor, page.total)
}

function loadRole(db: Db, id: string): RoleRow {
  const role = roleById(db, id)
  if (!role) throw notFound('role')
  return role
}

export function getRole(ctx: EnvContext, id: string): RoleResource {
  ensureRbac(ctx)
  return toRoleResource(ctx, ctx.db, loadRole(ctx.db, id))
}

function checkRoleKey(key: string) {
  if (!ROLE_KEY.test(key))
    throw formError(
      'form_param_format_invalid',
      'key',
      'is invalid',
      'A role key is org: followed by lower-case letters, digits and underscores (org:billing_admin).',
    )
}

/** Permission keys or ids, each known; returns their ids. */
function resolvePermissions(db: Db, refs: string[]): string[] {
  const ids: string[] = []
  for (const ref of refs) {
    const row = db
      .select({ id: permissions.id })
      .from(permissions)
      .where(isId('permission', ref) ? eq(permissions.id, ref) : eq(permissions.key, ref))
      .get()
    if (!row)
      throw formError('form_param_value_invalid', 'permissions', 'is unknown', `No permission is ${ref}.`)
    if (!ids.includes(row.id)) ids.push(row.id)
  }
  return ids
}

export function createRole(
  ctx: EnvContext,
  input: { key: string; name: string; description?: string; permissions?: string[] },
): RoleResource {
  ensureRbac(ctx)
  checkRoleKey(input.key)
  return withTx(ctx, (tx) => {
    if (roleByKey(tx, input.key)) throw formIdentifierExists('key')
    const permissionIds = resolvePermissions(tx, input.permissions ?? [])
    const now = ctx.clock.now()
    const row: RoleRow = {
      id: newId('role'),
      key: input.key,
      name: input.name,
      description: input.description ?? '',
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(roles).values(row).run()
    setRolePermissions(tx, row.id, permissionIds)
    const resource = toRoleResource(ctx, tx, row)
    emit(tx, ctx, 'role.created', resource)
    return resource
  })
}

/** Roles the instance settings name keep their key (settings refer to roles by key). */
function isNamedBySettings(ctx: EnvContext, key: string) {
  const s = ctx.settings().organizations
  return key === s.creator_role || key === s.default_role
}

export function updateRole(
  ctx: EnvContext,
  id: string,
  input: { key?: string; name?: string; description?: string },
): RoleResource {
  ensureRbac(ctx)
  if (input.key !== undefined) checkRoleKey(input.key)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const role = loadRole(tx, id)
      if (input.key !== undefined && input.key !== role.key) {
        if (isNamedBySettings(ctx, role.key))
          throw badRequest(
            'organization_role_key_immutable',
            'key cannot change',
            'The creator and default roles keep their key; name other roles in the instance settings first.',
          )
        if (roleByKey(tx, input.key)) throw formIdentifierExists('key')
      }
      const set: Partial<RoleRow> = { updatedAt: ctx.clock.now() }
      if (input.key !== undefined) set.key = input.key
      if (input.name !== undefined) set.name = input.name
      if (input.description !== undefined) set.description = input.description
      tx.update(roles).set(set).where(eq(roles.id, role.id)).run()
      const resource = toRoleResource(ctx, tx, loadRole(tx, role.id))
      emit(tx, ctx, 'role.updated', resource)
      return resource
    }),
  )
}

export function deleteRole(ctx: EnvContext, id: string) {
  ensureRbac(ctx)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const role = loadRole(tx, id)
      if (isNamedBySettings(ctx, role.key))
        throw badRequest(
          'organization_role_in_use',
          'role in use',
          'The creator and default roles cannot be deleted; name other roles in the instance settings first.',
        )
      const used =
        tx
          .select({ id: organizationMemberships.id })
          .from(organizationMemberships)
          .where(eq(organizationMemberships.roleId, role.id))
          .get() ??
        tx
          .select({ id: organizationInvitations.id })
          .from(organizationInvitations)
          .where(
            and(eq(organizationInvitations.roleId, role.id), eq(organizationInvitations.status, 'pending')),
          )
          .get()
      if (used)
        throw badRequest(
          'organization_role_in_use',
          'role in use',
          'Members or pending invitations hold this role: give them another role first.',
        )
      tx.delete(roles).where(eq(roles.id, role.id)).run()
      const deleted = { object: 'role' as const, id: role.id, key: role.key, deleted: true as const }
      emit(tx, ctx, 'role.deleted', deleted)
      return deleted
    }),
  )
}

/**
 * Replaces the role's permissions. The creator role keeps member management, and no
 * organization may lose its last member who can manage members.
 */
export function replaceRolePermissions(ctx: EnvContext, id: string, refs: string[]): RoleResource {
  ensureRbac(ctx)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const role = loadRole(tx, id)
      const permissionIds = resolvePermissions(tx, refs)
      const before = new Set(orgsWithoutManager(tx))
      setRolePermissions(tx, role.id, permissionIds)
      if (role.key === ctx.settings().organizations.creator_role && !roleHas(tx, role.id, MANAGE_MEMBERS))
        throw creatorRoleNeedsManage()
      if (orgsWithoutManager(tx).some((org) => !before.has(org)))
        throw badRequest(
          'organization_minimum_permissions_needed',
          'last member manager',
          `Removing ${MANAGE_MEMBERS} from this role would leave an organization without a member who can manage members.`,
        )
      tx.update(roles).set({ updatedAt: ctx.clock.now() }).where(eq(roles.id, role.id)).run()
      const resource = toRoleResource(ctx, tx, loadRole(tx, role.id))
      emit(tx, ctx, 'role.updated', resource)
      return resource
    }),
  )
}

// ---- permissions --------------------------------------------------------------------------

export function listPermissions(
  ctx: EnvContext,
  q: { limit?: number; cursor?: string; include_total_count?: boolean; type?: 'system' | 'user' },
): Page<PermissionResource> {
  ensureRbac(ctx)
  const typeFilter = q.type ? eq(permissions.type, q.type) : undefined
  const page = tablePage(ctx, permissions, typeFilter, q, '+created_at')
  return pageOf(page.rows.map(toPermissionResource), page.next_cursor, page.total)
}

export function createPermission(
  ctx: EnvContext,
  input: { key: string; name: string; description?: string },
): PermissionResource {
  ensureRbac(ctx)
  if (!PERMISSION_KEY.test(input.key))
    throw formError(
      'form_param_format_invalid',
      'key',
      'is invalid',
      'A permission key is org:<feature>:<action> in lower-case letters, digits and underscores (org:invoices:read).',
    )
  if (input.key.startsWith('org:sys_'))
    throw formError(
      'form_param_value_invalid',
      'key',
      'is reserved',
      'Permission features starting with sys_ are reserved for system permissions.',
    )
  return withTx(ctx, (tx) => {
    if (tx.select({ id: permissions.id }).from(permissions).where(eq(permissions.key, input.key)).get())
      throw formIdentifierExists('key')
    const now = ctx.clock.now()
    const row: PermissionRow = {
      id: newId('permission'),
      key: input.key,
      name: input.name,
      description: input.description ?? '',
      type: 'user',
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(permissions).values(row).run()
    const resource = toPermissionResource(row)
    emit(tx, ctx, 'permission.created', resource)
    return resource
  })
}

/** A custom permission goes, and every role loses it; system permissions stay. */
export function deletePermission(ctx: EnvContext, id: string) {
  ensureRbac(ctx)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const row = isId('permission', id)
        ? tx.select().from(permissions).where(eq(permissions.id, id)).get()
        : undefined
      if (!row) throw notFound('permission')
      if (row.type === 'system')
        throw badRequest(
          'system_permission_immutable',
          'system permission',
          'System permissions cannot be deleted.',
        )
      tx.delete(permissions).where(eq(permissions.id, row.id)).run()
      const deleted = { object: 'permission' as const, id: row.id, key: row.key, deleted: true as const }
      emit(tx, ctx, 'permission.deleted', deleted)
      return deleted
    }),
  )
}
