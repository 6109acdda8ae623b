import { and, eq, sql } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { isId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { roleByKey } from '../organizations/rbac'
import {
  dropUserMemberships,
  findMembership,
  insertMembership,
  requireOrganization,
} from '../organizations/service'
import { revokeUserSessions } from '../sessions/service'
import { normalizeEmail } from '../users/identifiers'
import { setManagedEmail } from '../users/managed'
import { changeUserIn, deleteUserRow, insertUser } from '../users/service'
import { invalidValue, scimError, scimNotFound, uniqueness } from './errors'
import { compileFilter, sortExpression, USER_FILTER_ATTRS } from './filter'
import { mapUser } from './mapping'
import { applyPatch, normalisePatch } from './patch'
import { type CleanUser, cleanUser } from './resource'
import { effectiveMapping, syncMemberRole } from './roles'
import { scimUsers } from './schema'
import {
  checkIfMatch,
  iso,
  type ListParams,
  listResponse,
  notModified,
  pageParams,
  resourceResult,
  type ScimCaller,
  type ScimResult,
  weakEtag,
} from './wire'

type Json = Record<string, unknown>

/** How the users capability knows a directory's addresses. */
export const SCIM_STRATEGY = 'scim'

interface UserRowSql {
  user_id: string
  organization_id: string
  user_name: string
  external_id: string | null
  active: number
  resource: string
  version: number
  created_at: number
  updated_at: number
}

const COLUMNS =
  'su.user_id, su.organization_id, su.user_name, su.external_id, su.active, su.resource, su.version, su.created_at, su.updated_at'

function findRow(c: ScimCaller, id: string): UserRowSql | null {
  if (!isId('user', id)) return null
  return (
    c.ctx
      .prepared('scim.user', () =>
        c.ctx.client.query<UserRowSql, [string, string]>(
          `select ${COLUMNS} from scim_users su where su.user_id = ? and su.organization_id = ?`,
        ),
      )
      .get(id, c.organizationId) ?? null
  )
}

function requireRow(c: ScimCaller, id: string): UserRowSql {
  const row = findRow(c, id)
  if (!row) throw scimNotFound('User', id)
  return row
}

/** Directory groups of the given users, for their read-only `groups`. */
function groupsOf(c: ScimCaller, userIds: string[]) {
  const out = new Map<string, Array<{ id: string; name: string }>>()
  if (!userIds.length) return out
  const rows = c.ctx.client
    .query<{ user_id: string; id: string; name: string }, string[]>(
      `select gm.user_id, g.id, g.display_name as name from scim_group_members gm join scim_groups g on g.id = gm.group_id
       where gm.user_id in (${userIds.map(() => '?').join(',')}) order by g.created_at, g.id`,
    )
    .all(...userIds)
  for (const r of rows) {
    const list = out.get(r.user_id) ?? []
    list.push({ id: r.id, name: r.name })
    out.set(r.user_id, list)
  }
  return out
}

function toScimUser(c: ScimCaller, row: UserRowSql, groups: Array<{ id: string; name: string }> = []): Json {
  const { schemas, ...attrs } = JSON.parse(row.resource) as Json
  return {
    schemas,
    id: row.user_id,
    ...attrs,
    active: row.active === 1,
    ...(groups.length
      ? {
          groups: groups.map((g) => ({
            value: g.id,
            $ref: `${c.base}/Groups/${g.id}`,
            display: g.name,
            type: 'direct',
          })),
        }
      : {}),
    meta: {
      resourceType: 'User',
      created: iso(row.created_at),
      lastModified: iso(row.updated_at),
      location: `${c.base}/Users/${row.user_id}`,
      version: weakEtag(row.version),
    },
  }
}

const wantsGroups = (p: { attributes: string[]; excluded: string[] }) =>
  p.attributes.length
    ? p.attributes.some((a) => a.toLowerCase().startsWith('groups'))
    : !p.excluded.some((a) => a.toLowerCase() === 'groups')

function present(c: ScimCaller, row: UserRowSql, p: { attributes: string[]; excluded: string[] }) {
  const groups = wantsGroups(p) ? (groupsOf(c, [row.user_id]).get(row.user_id) ?? []) : []
  return toScimUser(c, row, groups)
}

// ---- reads --------------------------------------------------------------------------------

export function getScimUser(
  c: ScimCaller,
  id: string,
  p: { attributes: string[]; excluded: string[]; ifNoneMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  if (p.ifNoneMatch && p.ifNoneMatch === weakEtag(row.version)) return notModified(weakEtag(row.version))
  return resourceResult(present(c, row, p), p, 200, row.version)
}

export function listScimUsers(c: ScimCaller, q: ListParams): ScimResult {
  const { startIndex, count } = pageParams(q)
  const filter = q.filter ? compileFilter(q.filter, USER_FILTER_ATTRS) : null
  const where = `su.organization_id = ?${filter ? ` and ${filter.where}` : ''}`
  const params: Array<string | number> = [c.organizationId, ...(filter?.params ?? [])]
  const total =
    c.ctx.client
      .query<{ n: number }, Array<string | number>>(`select count(*) as n from scim_users su where ${where}`)
      .get(...params)?.n ?? 0
  let rows: UserRowSql[] = []
  if (count > 0) {
    const descending = q.sortOrder?.toLowerCase() === 'descending'
    const order = q.sortBy
      ? `${sortExpression(q.sortBy, USER_FILTER_ATTRS)} ${descending ? 'desc' : 'asc'}, su.created_at, su.user_id`
      : 'su.created_at, su.user_id'
    rows = c.ctx.client
      .query<UserRowSql, Array<string | number>>(
        `select ${COLUMNS} from scim_users su where ${where} order by ${order} limit ? offset ?`,
      )
      .all(...params, count, startIndex - 1)
  }
  const groups = wantsGroups(q)
    ? groupsOf(
        c,
        rows.map((r) => r.user_id),
      )
    : new Map()
  return listResponse(
    rows.map((r) => toScimUser(c, r, groups.get(r.user_id) ?? [])),
    total,
    startIndex,
    q,
  )
}

// ---- writes -------------------------------------------------------------------------------

/** The sign-in address: the primary email, else the work one, else the first. */
function primaryEmail(resource: Json): string {
  const emails = (resource.emails as Json[] | undefined) ?? []
  const chosen = emails.find((e) => e.primary === true) ?? emails.find((e) => e.type === 'work') ?? emails[0]
  if (typeof chosen?.value !== 'string')
    throw invalidValue('emails must hold at least one address (a value).')
  return normalizeEmail(chosen.value, 'emails')
}

function assertUserNameFree(tx: EnvTx, organizationId: string, userName: string, exceptUser?: string) {
  const taken = tx
    .select({ id: scimUsers.userId })
    .from(scimUsers)
    .where(
      and(
        eq(scimUsers.organizationId, organizationId),
        sql`${scimUsers.userName} = ${userName} collate nocase`,
      ),
    )
    .get()
  if (taken && taken.id !== exceptUser)
    throw uniqueness(`A user with the userName ${JSON.stringify(userName.slice(0, 200))} exists.`)
}

const eventData = (
  organizationId: string,
  userId: string,
  clean: { userName: string; externalId: string | null },
  active: boolean,
) => ({
  object: 'scim_user',
  id: userId,
  user_id: userId,
  organization_id: organizationId,
  user_name: clean.userName,
  external_id: clean.externalId,
  active,
})

/** Provisions a user: a verified directory address, membership of the token's organization. */
export function createScimUser(
  c: ScimCaller,
  body: unknown,
  p: { attributes: string[]; excluded: string[] },
): ScimResult {
  const { ctx, organizationId } = c
  const clean = cleanUser(body, { schemasRequired: true })
  const email = primaryEmail(clean.resource)
  const active = clean.active ?? true
  const userId = withTx(ctx, (tx) => {
    const org = requireOrganization(tx, organizationId)
    assertUserNameFree(tx, organizationId, clean.userName)
    const mapping = effectiveMapping(tx, organizationId)
    const mapped = mapUser(mapping, clean.resource, { publicMetadata: {}, privateMetadata: {} })
    const user = insertUser(tx, ctx, {
      emails: [{ address: email, strategy: SCIM_STRATEGY }],
      phones: [],
      username: null,
      externalId: null,
      firstName: mapped.firstName ?? null,
      lastName: mapped.lastName ?? null,
      passwordDigest: null,
      publicMetadata: mapped.publicMetadata ?? {},
      privateMetadata: mapped.privateMetadata ?? {},
      unsafeMetadata: {},
    })
    const now = ctx.clock.now()
    tx.insert(scimUsers)
      .values({
        userId: user.id,
        organizationId,
        userName: clean.userName,
        externalId: clean.externalId,
        active,
        resource: clean.resource,
        version: 1,
        createdAt: now,
        updatedAt: now,
      })
      .run()
    if (!active) changeUserIn(tx, ctx, user.id, () => ({ banned: true }))
    if (!findMembership(tx, organizationId, user.id)) {
      const role = roleByKey(tx, ctx.settings().organizations.default_role)
      if (!role) throw scimError(500, null, 'The default organization role is missing.')
      insertMembership(tx, ctx, { org, userId: user.id, role, checkRoom: true })
    }
    syncMemberRole(tx, ctx, organizationId, user.id, mapping)
    emit(tx, ctx, 'scimUser.provisioned', eventData(organizationId, user.id, clean, active))
    return user.id
  })
  // A new user is in no group yet.
  return resourceResult(toScimUser(c, requireRow(c, userId)), p, 201, 1, `${c.base}/Users/${userId}`)
}

/**
 * Writes a new state of a provisioned user (PUT, or PATCH's result): the SCIM resource, the
 * mapped user fields, the directory address, and the ban that follows `active`.
 */
function writeUser(c: ScimCaller, row: UserRowSql, clean: CleanUser) {
  const { ctx, organizationId } = c
  const email = primaryEmail(clean.resource)
  const wasActive = row.active === 1
  const active = clean.active ?? wasActive
  withTx(ctx, (tx) => {
    assertUserNameFree(tx, organizationId, clean.userName, row.user_id)
    const mapping = effectiveMapping(tx, organizationId)
    if (wasActive && !active) revokeUserSessions(tx, ctx, row.user_id)
    changeUserIn(tx, ctx, row.user_id, (tx, agg) => {
      const mapped = mapUser(mapping, clean.resource, agg.user)
      const set: ReturnType<Parameters<typeof changeUserIn>[3]> = { ...mapped }
      const current = agg.emails.find((e) => e.id === agg.user.primaryEmailAddressId)
      if (current?.emailAddress !== email || current.verificationStrategy !== SCIM_STRATEGY)
        Object.assign(set, setManagedEmail(tx, ctx, row.user_id, email, SCIM_STRATEGY))
      if (active !== wasActive) set.banned = !active
      return set
    })
    tx.update(scimUsers)
      .set({
        userName: clean.userName,
        externalId: clean.externalId,
        active,
        resource: clean.resource,
        version: row.version + 1,
        updatedAt: ctx.clock.now(),
      })
      .where(eq(scimUsers.userId, row.user_id))
      .run()
    const data = eventData(organizationId, row.user_id, clean, active)
    emit(tx, ctx, 'scimUser.updated', data)
    if (wasActive && !active) emit(tx, ctx, 'scimUser.deprovisioned', data)
  })
}

export function replaceScimUser(
  c: ScimCaller,
  id: string,
  body: unknown,
  p: { attributes: string[]; excluded: string[]; ifMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  writeUser(c, row, cleanUser(body, { schemasRequired: true }))
  const after = requireRow(c, id)
  return resourceResult(present(c, after, p), p, 200, after.version)
}

export function patchScimUser(
  c: ScimCaller,
  id: string,
  body: unknown,
  p: { attributes: string[]; excluded: string[]; ifMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  const ops = normalisePatch('User', body, row.user_id)
  const doc: Json = { ...(JSON.parse(row.resource) as Json), active: row.active === 1 }
  const patched = applyPatch(doc, ops)
  delete patched.meta
  writeUser(c, row, cleanUser(patched, { schemasRequired: false }))
  const after = requireRow(c, id)
  return resourceResult(present(c, after, p), p, 200, after.version)
}

/** Hard delete: the user goes, with their sessions and memberships. */
export function deleteScimUser(c: ScimCaller, id: string, p: { ifMatch?: string | null }): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  withTx(c.ctx, (tx) => {
    emit(
      tx,
      c.ctx,
      'scimUser.deleted',
      eventData(
        c.organizationId,
        row.user_id,
        { userName: row.user_name, externalId: row.external_id },
        row.active === 1,
      ),
    )
    revokeUserSessions(tx, c.ctx, row.user_id)
    dropUserMemberships(tx, c.ctx, row.user_id)
    deleteUserRow(tx, c.ctx, row.user_id)
  })
  return { status: 204 }
}

/** The directory that manages a user (for the refusals on BAPI and FAPI), if any. */
export function scimManagerOf(ctx: EnvContext, userId: string): { organizationId: string } | null {
  const row = ctx
    .prepared('scim.manager', () =>
      ctx.client.query<{ organization_id: string }, [string]>(
        'select organization_id from scim_users where user_id = ?',
      ),
    )
    .get(userId)
  return row ? { organizationId: row.organization_id } : null
}
