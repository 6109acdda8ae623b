import { and, count, desc, eq, gt, like, or, type SQL, sql } from 'drizzle-orm'
import { randomToken } from '../../crypto/secrets'
import { keysetPage, type ListQuery, olderThan, type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { formError, formIdentifierExists, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { checkMetadata, mergeMetadataPatch } from '../users/metadata'
import { userExists } from '../users/service'
import {
  alreadyMember,
  membershipQuotaExceeded,
  minimumPermissionsNeeded,
  organizationsDisabled,
  orgNotFound,
} from './errors'
import { claimsChanged, ensureRbac, managerCount, requireRoleByKey, roleByKey } from './rbac'
import {
  type MembershipRow,
  type OrganizationRow,
  organizationInvitations,
  organizationMembershipRequests,
  organizationMemberships,
  organizations,
  type RoleRow,
} from './schema'
import {
  loadOrgWithCounts,
  type MembershipResource,
  type OrganizationResource,
  selectOrganizations,
  toMembershipResource,
  toMembershipResources,
  toOrganizationResource,
} from './serialize'

type Db = EnvContext['db'] | EnvTx
type Metadata = Record<string, unknown>

/** Organization routes refuse to run until the instance turns organizations on. */
export function assertOrganizationsEnabled(ctx: EnvContext) {
  if (!ctx.settings().organizations.enabled) throw organizationsDisabled()
  ensureRbac(ctx)
}

/** By id (`org_…`) or by slug. */
export function findOrganization(db: Db, idOrSlug: string): OrganizationRow | null {
  const where = isId('organization', idOrSlug)
    ? eq(organizations.id, idOrSlug)
    : eq(organizations.slug, idOrSlug.toLowerCase())
  return db.select().from(organizations).where(where).get() ?? null
}

export function requireOrganization(db: Db, idOrSlug: string): OrganizationRow {
  const org = findOrganization(db, idOrSlug)
  if (!org) throw orgNotFound()
  return org
}

export const organizationResource = (ctx: EnvContext, db: Db, id: string): OrganizationResource =>
  toOrganizationResource(ctx, loadOrgWithCounts(db, ctx.clock.now(), id)!)

/** Both metadata objects an organization or membership takes, size-checked. */
export function checkMetadataOf(input: { public_metadata?: Metadata; private_metadata?: Metadata }) {
  for (const m of ['public_metadata', 'private_metadata'] as const) if (input[m]) checkMetadata(m, input[m])
}

// ---- names and slugs ----------------------------------------------------------------------

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/

function checkName(name: string): string {
  const trimmed = name.trim()
  if (!trimmed || /[<>]/.test(trimmed))
    throw formError(
      'form_param_format_invalid',
      'name',
      'is invalid',
      'An organization name is 1 to 256 characters without < or >.',
    )
  return trimmed
}

function checkSlug(slug: string): string {
  const s = slug.trim().toLowerCase()
  if (!SLUG.test(s))
    throw formError(
      'form_param_format_invalid',
      'slug',
      'is invalid',
      'A slug is 1 to 64 lower-case letters, digits and dashes, starting and ending with a letter or digit.',
    )
  return s
}

const slugTaken = (db: Db, slug: string, except?: string) => {
  const row = db
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.slug, slug))
    .get()
  return !!row && row.id !== except
}

/** From the name, with a random suffix when the plain one is taken. */
function slugFor(db: Db, name: string): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'org'
  let slug = base
  while (slugTaken(db, slug))
    slug = `${base}-${randomToken(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 6)}`
  return slug
}

// ---- organizations ------------------------------------------------------------------------

export interface CreateOrganizationInput {
  name: string
  slug?: string
  created_by?: string
  image_url?: string
  max_allowed_memberships?: number
  public_metadata?: Metadata
  private_metadata?: Metadata
}

/**
 * Creates an organization; its creator (if any) becomes its first member in the instance's
 * creator role. The caller's transaction, so the FAPI can check quotas in it.
 */
export function insertOrganization(tx: EnvTx, ctx: EnvContext, input: CreateOrganizationInput) {
  const name = checkName(input.name)
  const slug = input.slug !== undefined ? checkSlug(input.slug) : slugFor(tx, name)
  if (slugTaken(tx, slug)) throw formIdentifierExists('slug')
  checkMetadataOf(input)
  if (input.created_by !== undefined && !userExists(tx, input.created_by))
    throw formError('form_param_value_invalid', 'created_by', 'is unknown', 'No user has that id.')
  const now = ctx.clock.now()
  const row: OrganizationRow = {
    id: newId('organization'),
    name,
    slug,
    imageUrl: input.image_url ?? null,
    maxAllowedMemberships: input.max_allowed_memberships ?? null,
    adminDeleteEnabled: true,
    publicMetadata: input.public_metadata ?? {},
    privateMetadata: input.private_metadata ?? {},
    createdBy: input.created_by ?? null,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(organizations).values(row).run()
  emit(tx, ctx, 'organization.created', organizationResource(ctx, tx, row.id))
  if (input.created_by !== undefined) {
    const role = requireRoleByKey(tx, ctx.settings().organizations.creator_role, 'created_by')
    insertMembership(tx, ctx, { org: row, userId: input.created_by, role, checkRoom: false })
  }
  return organizationResource(ctx, tx, row.id)
}

export function createOrganization(ctx: EnvContext, input: CreateOrganizationInput) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => insertOrganization(tx, ctx, input))
}

export function getOrganization(ctx: EnvContext, idOrSlug: string) {
  assertOrganizationsEnabled(ctx)
  return organizationResource(ctx, ctx.db, requireOrganization(ctx.db, idOrSlug).id)
}

export function listOrganizations(
  ctx: EnvContext,
  q: { query?: string } & ListQuery,
): Page<OrganizationResource> {
  assertOrganizationsEnabled(ctx)
  const now = ctx.clock.now()
  const pattern = q.query ? `%${q.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
  const filter = pattern
    ? or(
        sql`lower(${organizations.name}) like ${pattern} escape '\\'`,
        sql`${organizations.slug} like ${pattern} escape '\\'`,
        like(organizations.id, pattern),
      )
    : undefined
  const page = keysetPage({
    order: '-created_at',
    limit: q.limit ?? 10,
    cursor: q.cursor,
    offset: q.offset,
    sortValue: (r: { id: string; createdAt: number }) => r.createdAt,
    fetch: (after, take) =>
      selectOrganizations(ctx.db, now)
        .where(and(filter, olderThan(organizations.createdAt, organizations.id, after)))
        .orderBy(desc(organizations.createdAt), desc(organizations.id))
        .limit(take)
        .all()
        .map((r) => ({ ...r, id: r.org.id, createdAt: r.org.createdAt })),
  })
  const total = ctx.db.select({ n: count() }).from(organizations).where(filter).get()?.n ?? 0
  return pageOf(
    page.rows.map((r) => toOrganizationResource(ctx, r)),
    page.next_cursor,
    total,
  )
}

export interface UpdateOrganizationInput {
  name?: string
  slug?: string
  image_url?: string | null
  max_allowed_memberships?: number | null
  admin_delete_enabled?: boolean
  public_metadata?: Metadata
  private_metadata?: Metadata
}

export function updateOrganization(ctx: EnvContext, idOrSlug: string, input: UpdateOrganizationInput) {
  assertOrganizationsEnabled(ctx)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const org = requireOrganization(tx, idOrSlug)
      const set: Partial<OrganizationRow> = { updatedAt: ctx.clock.now() }
      if (input.name !== undefined) set.name = checkName(input.name)
      if (input.slug !== undefined) {
        set.slug = checkSlug(input.slug)
        if (slugTaken(tx, set.slug, org.id)) throw formIdentifierExists('slug')
      }
      if (input.image_url !== undefined) set.imageUrl = input.image_url
      if (input.max_allowed_memberships !== undefined)
        set.maxAllowedMemberships = input.max_allowed_memberships
      if (input.admin_delete_enabled !== undefined) set.adminDeleteEnabled = input.admin_delete_enabled
      if (input.public_metadata) set.publicMetadata = checkMetadata('public_metadata', input.public_metadata)
      if (input.private_metadata)
        set.privateMetadata = checkMetadata('private_metadata', input.private_metadata)
      tx.update(organizations).set(set).where(eq(organizations.id, org.id)).run()
      const resource = organizationResource(ctx, tx, org.id)
      emit(tx, ctx, 'organization.updated', resource)
      return resource
    }),
  )
}

/** Memberships, invitations, domains and requests go with it (sessions react to the event). */
export function deleteOrganization(ctx: EnvContext, idOrSlug: string) {
  assertOrganizationsEnabled(ctx)
  return claimsChanged(
    ctx,
    withTx(ctx, (tx) => {
      const org = requireOrganization(tx, idOrSlug)
      tx.delete(organizations).where(eq(organizations.id, org.id)).run()
      const deleted = { object: 'organization' as const, id: org.id, slug: org.slug, deleted: true as const }
      emit(tx, ctx, 'organization.deleted', deleted)
      return deleted
    }),
  )
}

// ---- memberships --------------------------------------------------------------------------

export function findMembership(db: Db, organizationId: string, userId: string): MembershipRow | null {
  return (
    db
      .select()
      .from(organizationMemberships)
      .where(
        and(
          eq(organizationMemberships.organizationId, organizationId),
          eq(organizationMemberships.userId, userId),
        ),
      )
      .get() ?? null
  )
}

/** A membership by its id or, as Clerk addresses them, by its user's id. */
function requireMembershipById(db: Db, organizationId: string, id: string): MembershipRow {
  const row = isId('membership', id)
    ? db
        .select()
        .from(organizationMemberships)
        .where(
          and(eq(organizationMemberships.id, id), eq(organizationMemberships.organizationId, organizationId)),
        )
        .get()
    : isId('user', id)
      ? (findMembership(db, organizationId, id) ?? undefined)
      : undefined
  if (!row) throw notFound('organization membership')
  return row
}

/** Members plus pending invitations, against the org's (or the instance's) limit; 0 is none. */
export function membershipRoom(tx: EnvTx, ctx: EnvContext, org: OrganizationRow) {
  const max = org.maxAllowedMemberships ?? ctx.settings().organizations.max_allowed_memberships
  if (max === 0) return { max, left: Number.POSITIVE_INFINITY }
  const members =
    tx
      .select({ n: count() })
      .from(organizationMemberships)
      .where(eq(organizationMemberships.organizationId, org.id))
      .get()?.n ?? 0
  const pending =
    tx
      .select({ n: count() })
      .from(organizationInvitations)
      .where(
        and(
          eq(organizationInvitations.organizationId, org.id),
          eq(organizationInvitations.status, 'pending'),
          gt(organizationInvitations.expireAt, ctx.clock.now()),
        ),
      )
      .get()?.n ?? 0
  return { max, left: max - members - pending }
}

export function assertRoom(tx: EnvTx, ctx: EnvContext, org: OrganizationRow, needed = 1) {
  const room = membershipRoom(tx, ctx, org)
  if (room.left < needed) throw membershipQuotaExceeded(room.max)
}

/**
 * Adds a member in the caller's transaction. A pending membership request of the same user is
 * settled by it.
 */
export function insertMembership(
  tx: EnvTx,
  ctx: EnvContext,
  input: {
    org: OrganizationRow
    userId: string
    role: RoleRow
    checkRoom: boolean
    publicMetadata?: Metadata
    privateMetadata?: Metadata
  },
): MembershipRow {
  if (findMembership(tx, input.org.id, input.userId)) throw alreadyMember()
  if (input.checkRoom) assertRoom(tx, ctx, input.org)
  const now = ctx.clock.now()
  const row: MembershipRow = {
    id: newId('membership'),
    organizationId: input.org.id,
    userId: input.userId,
    roleId: input.role.id,
    publicMetadata: input.publicMetadata ?? {},
    privateMetadata: input.privateMetadata ?? {},
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(organizationMemberships).values(row).run()
  tx.update(organizationMembershipRequests)
    .set({ status: 'accepted', updatedAt: now })
    .where(
      and(
        eq(organizationMembershipRequests.organizationId, input.org.id),
        eq(organizationMembershipRequests.userId, input.userId),
        eq(organizationMembershipRequests.status, 'pending'),
      ),
    )
    .run()
  emit(tx, ctx, 'organizationMembership.created', toMembershipResource(ctx, tx, row))
  return row
}

/**
 * Removes a member in the caller's transaction: the org keeps a member who can manage members.
 * The user's sessions react to the event and stop having it active (no `o` claim next time).
 */
export function removeMembership(tx: EnvTx, ctx: EnvContext, m: MembershipRow): MembershipResource {
  const resource = toMembershipResource(ctx, tx, m)
  const before = managerCount(tx, m.organizationId)
  tx.delete(organizationMemberships).where(eq(organizationMemberships.id, m.id)).run()
  if (before > 0 && managerCount(tx, m.organizationId) === 0) throw minimumPermissionsNeeded()
  emit(tx, ctx, 'organizationMembership.deleted', resource)
  return resource
}

/**
 * Sets a member's role in the caller's transaction, for a directory (SCIM) that decides roles by
 * group: the directory is authoritative, so the last-manager rule is not applied.
 */
export function setMembershipRole(tx: EnvTx, ctx: EnvContext, m: MembershipRow, role: RoleRow) {
  if (m.roleId === role.id) return
  const now = ctx.clock.now()
  tx.update(organizationMemberships)
    .set({ roleId: role.id, updatedAt: now })
    .where(eq(organizationMemberships.id, m.id))
    .run()
  emit(
    tx,
    ctx,
    'organizationMembership.updated',
    toMembershipResource(ctx, tx, { ...m, roleId: role.id, updatedAt: now }),
  )
}

/**
 * A deleted user leaves every organization, with the events a removal writes. An operator's
 * delete is not refused when it leaves an organization without a manager.
 */
export function dropUserMemberships(tx: EnvTx, ctx: EnvContext, userId: string) {
  const rows = tx
    .select()
    .from(organizationMemberships)
    .where(eq(organizationMemberships.userId, userId))
    .all()
  for (const m of rows) {
    const resource = toMembershipResource(ctx, tx, m)
    tx.delete(organizationMemberships).where(eq(organizationMemberships.id, m.id)).run()
    emit(tx, ctx, 'organizationMembership.deleted', resource)
  }
}

/** Newest first over a filter, in the view `present` makes. */
export function pageOfMemberships<T>(
  ctx: EnvContext,
  filter: SQL | undefined,
  q: { limit?: number; cursor?: string; include_total_count?: boolean },
  present: (ctx: EnvContext, db: EnvContext['db'], rows: MembershipRow[]) => T[],
) {
  const page = tablePage(ctx, organizationMemberships, filter, q)
  return pageOf(present(ctx, ctx.db, page.rows), page.next_cursor, page.total)
}

/** The organizations a user belongs to, newest membership first, in the view `present` makes. */
export const pageOfUserMemberships = <T>(
  ctx: EnvContext,
  userId: string,
  q: { limit?: number; cursor?: string; include_total_count?: boolean },
  present: (ctx: EnvContext, db: EnvContext['db'], rows: MembershipRow[]) => T[],
) => pageOfMemberships(ctx, eq(organizationMemberships.userId, userId), q, present)

/** The ids of the organizations a user belongs to. */
export const userOrganizationIds = (db: Db, userId: string): string[] =>
  db
    .select({ id: organizationMemberships.organizationId })
    .from(organizationMemberships)
    .where(eq(organizationMemberships.userId, userId))
    .all()
    .map((r) => r.id)

/** An organization's members, optionally of one role. */
export function listMemberships<T>(
  ctx: EnvContext,
  idOrSlug: string,
  q: { role?: string; limit?: number; cursor?: string; include_total_count?: boolean },
  present: (ctx: EnvContext, db: EnvContext['db'], rows: MembershipRow[]) => T[],
) {
  const org = requireOrganization(ctx.db, idOrSlug)
  const role = q.role ? roleByKey(ctx.db, q.role) : null
  const filter = and(
    eq(organizationMemberships.organizationId, org.id),
    q.role ? eq(organizationMemberships.roleId, role?.id ?? '') : undefined,
  )
  return pageOfMemberships(ctx, filter, q, present)
}

export function listMembershipsBapi(
  ctx: EnvContext,
  idOrSlug: string,
  q: { role?: string; limit?: number; cursor?: string; include_total_count?: boolean },
) {
  assertOrganizationsEnabled(ctx)
  return listMemberships(ctx, idOrSlug, q, toMembershipResources)
}

/** A user's memberships, newest first (Clerk: `users.getOrganizationMembershipList`). */
export function listUserMembershipsBapi(ctx: EnvContext, userId: string, q: ListQuery) {
  assertOrganizationsEnabled(ctx)
  if (!userExists(ctx.db, userId)) throw notFound('user')
  return pageOfUserMemberships(ctx, userId, q, toMembershipResources)
}

export function addMembership(
  ctx: EnvContext,
  idOrSlug: string,
  input: { user_id: string; role: string; public_metadata?: Metadata; private_metadata?: Metadata },
): MembershipResource {
  assertOrganizationsEnabled(ctx)
  checkMetadataOf(input)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    if (!userExists(tx, input.user_id))
      throw formError('form_param_value_invalid', 'user_id', 'is unknown', 'No user has that id.')
    const role = requireRoleByKey(tx, input.role)
    const row = insertMembership(tx, ctx, {
      org,
      userId: input.user_id,
      role,
      checkRoom: true,
      publicMetadata: input.public_metadata,
      privateMetadata: input.private_metadata,
    })
    return toMembershipResource(ctx, tx, row)
  })
}

export function updateMembership(
  ctx: EnvContext,
  idOrSlug: string,
  membershipId: string,
  input: { role?: string; public_metadata?: Metadata; private_metadata?: Metadata },
): MembershipResource {
  assertOrganizationsEnabled(ctx)
  checkMetadataOf(input)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const m = requireMembershipById(tx, org.id, membershipId)
    const set: Partial<MembershipRow> = { updatedAt: ctx.clock.now() }
    if (input.role !== undefined) set.roleId = requireRoleByKey(tx, input.role).id
    if (input.public_metadata) set.publicMetadata = input.public_metadata
    if (input.private_metadata) set.privateMetadata = input.private_metadata
    const before = managerCount(tx, org.id)
    tx.update(organizationMemberships).set(set).where(eq(organizationMemberships.id, m.id)).run()
    if (before > 0 && managerCount(tx, org.id) === 0) throw minimumPermissionsNeeded()
    const resource = toMembershipResource(ctx, tx, requireMembershipById(tx, org.id, m.id))
    emit(tx, ctx, 'organizationMembership.updated', resource)
    return resource
  })
}

export interface MetadataPatch {
  public_metadata?: Metadata
  private_metadata?: Metadata
}

/** Deep-merges metadata into an organization (null deletes a key), as for users. */
export function mergeOrganizationMetadata(ctx: EnvContext, idOrSlug: string, patch: MetadataPatch) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const set: Partial<OrganizationRow> = { updatedAt: ctx.clock.now() }
    Object.assign(set, mergeMetadataPatch(org, patch))
    tx.update(organizations).set(set).where(eq(organizations.id, org.id)).run()
    const resource = organizationResource(ctx, tx, org.id)
    emit(tx, ctx, 'organization.updated', resource)
    return resource
  })
}

/** Deep-merges metadata into a membership (by its id or its user's id). */
export function mergeMembershipMetadata(
  ctx: EnvContext,
  idOrSlug: string,
  membershipId: string,
  patch: MetadataPatch,
): MembershipResource {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const m = requireMembershipById(tx, org.id, membershipId)
    const set: Partial<MembershipRow> = { updatedAt: ctx.clock.now() }
    Object.assign(set, mergeMetadataPatch(m, patch))
    tx.update(organizationMemberships).set(set).where(eq(organizationMemberships.id, m.id)).run()
    const resource = toMembershipResource(ctx, tx, requireMembershipById(tx, org.id, m.id))
    emit(tx, ctx, 'organizationMembership.updated', resource)
    return resource
  })
}

export function deleteMembership(ctx: EnvContext, idOrSlug: string, membershipId: string) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    return removeMembership(tx, ctx, requireMembershipById(tx, org.id, membershipId))
  })
}
