import { and, eq, inArray, sql } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { isId, newId } from '../../lib/ids'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { invalidValue, scimNotFound, uniqueness } from './errors'
import { compileFilter, GROUP_FILTER_ATTRS, sortExpression } from './filter'
import { CORE_GROUP } from './mapping'
import { applyPatch, normalisePatch } from './patch'
import { type CleanGroup, cleanGroup } from './resource'
import { effectiveMapping, syncMemberRole } from './roles'
import { scimGroupMembers, scimGroups, scimUsers } from './schema'
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
type Projection = { attributes: string[]; excluded: string[] }

interface GroupRowSql {
  id: string
  organization_id: string
  display_name: string
  external_id: string | null
  version: number
  created_at: number
  updated_at: number
}

const COLUMNS =
  'g.id, g.organization_id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at'

function findRow(c: ScimCaller, id: string): GroupRowSql | null {
  if (!isId('scimGroup', id)) return null
  return (
    c.ctx.client
      .query<GroupRowSql, [string, string]>(
        `select ${COLUMNS} from scim_groups g where g.id = ? and g.organization_id = ?`,
      )
      .get(id, c.organizationId) ?? null
  )
}

function requireRow(c: ScimCaller, id: string): GroupRowSql {
  const row = findRow(c, id)
  if (!row) throw scimNotFound('Group', id)
  return row
}

/** Members are asked for unless excluded: Entra always reads groups with excludedAttributes=members. */
const wantsMembers = (p: Projection) =>
  p.attributes.length
    ? p.attributes.some((a) => a.toLowerCase().startsWith('members'))
    : !p.excluded.some((a) => a.toLowerCase() === 'members')

function membersOf(c: ScimCaller, groupIds: string[]) {
  const out = new Map<string, Array<{ id: string; display: string }>>()
  if (!groupIds.length) return out
  const rows = c.ctx.client
    .query<{ group_id: string; user_id: string; display: string }, string[]>(
      `select gm.group_id, gm.user_id, coalesce(json_extract(su.resource, '$.displayName'), su.user_name) as display
       from scim_group_members gm join scim_users su on su.user_id = gm.user_id
       where gm.group_id in (${groupIds.map(() => '?').join(',')}) order by gm.created_at, gm.user_id`,
    )
    .all(...groupIds)
  for (const r of rows) {
    const list = out.get(r.group_id) ?? []
    list.push({ id: r.user_id, display: r.display })
    out.set(r.group_id, list)
  }
  return out
}

function toScimGroup(
  c: ScimCaller,
  row: GroupRowSql,
  members: Array<{ id: string; display: string }> | null,
): Json {
  return {
    schemas: [CORE_GROUP],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    displayName: row.display_name,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.id,
            $ref: `${c.base}/Users/${m.id}`,
            display: m.display,
            type: 'User',
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: iso(row.created_at),
      lastModified: iso(row.updated_at),
      location: `${c.base}/Groups/${row.id}`,
      version: weakEtag(row.version),
    },
  }
}

const present = (c: ScimCaller, row: GroupRowSql, p: Projection) =>
  toScimGroup(c, row, wantsMembers(p) ? (membersOf(c, [row.id]).get(row.id) ?? []) : null)

export function getScimGroup(
  c: ScimCaller,
  id: string,
  p: Projection & { ifNoneMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  if (p.ifNoneMatch && p.ifNoneMatch === weakEtag(row.version)) return notModified(weakEtag(row.version))
  return resourceResult(present(c, row, p), p, 200, row.version)
}

export function listScimGroups(c: ScimCaller, q: ListParams): ScimResult {
  const { startIndex, count } = pageParams(q)
  const filter = q.filter ? compileFilter(q.filter, GROUP_FILTER_ATTRS) : null
  const where = `g.organization_id = ?${filter ? ` and ${filter.where}` : ''}`
  const params: Array<string | number> = [c.organizationId, ...(filter?.params ?? [])]
  const total =
    c.ctx.client
      .query<{ n: number }, Array<string | number>>(`select count(*) as n from scim_groups g where ${where}`)
      .get(...params)?.n ?? 0
  let rows: GroupRowSql[] = []
  if (count > 0) {
    const order = q.sortBy
      ? `${sortExpression(q.sortBy, GROUP_FILTER_ATTRS)} ${q.sortOrder?.toLowerCase() === 'descending' ? 'desc' : 'asc'}, g.created_at, g.id`
      : 'g.created_at, g.id'
    rows = c.ctx.client
      .query<GroupRowSql, Array<string | number>>(
        `select ${COLUMNS} from scim_groups g where ${where} order by ${order} limit ? offset ?`,
      )
      .all(...params, count, startIndex - 1)
  }
  const members = wantsMembers(q)
    ? membersOf(
        c,
        rows.map((r) => r.id),
      )
    : null
  return listResponse(
    rows.map((r) => toScimGroup(c, r, members ? (members.get(r.id) ?? []) : null)),
    total,
    startIndex,
    q,
  )
}

// ---- writes -------------------------------------------------------------------------------

function assertNameFree(tx: EnvTx, organizationId: string, name: string, except?: string) {
  const taken = tx
    .select({ id: scimGroups.id })
    .from(scimGroups)
    .where(
      and(
        eq(scimGroups.organizationId, organizationId),
        sql`${scimGroups.displayName} = ${name} collate nocase`,
      ),
    )
    .get()
  if (taken && taken.id !== except)
    throw uniqueness(`A group named ${JSON.stringify(name.slice(0, 200))} exists.`)
}

/** Members must be users this organization's directory provisioned. */
function assertMembers(tx: EnvTx, organizationId: string, ids: string[]) {
  if (!ids.length) return
  const known = new Set<string>()
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    for (const r of tx
      .select({ id: scimUsers.userId })
      .from(scimUsers)
      .where(and(eq(scimUsers.organizationId, organizationId), inArray(scimUsers.userId, chunk)))
      .all())
      known.add(r.id)
  }
  const unknown = ids.find((id) => !known.has(id))
  if (unknown !== undefined)
    throw invalidValue(`members: ${JSON.stringify(unknown.slice(0, 100))} is not a user of this directory.`)
}

const eventData = (c: ScimCaller, id: string, clean: { displayName: string; externalId: string | null }) => ({
  object: 'scim_group',
  id,
  organization_id: c.organizationId,
  display_name: clean.displayName,
  external_id: clean.externalId,
})

function currentMembers(tx: EnvTx, groupId: string): string[] {
  return tx
    .select({ id: scimGroupMembers.userId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, groupId))
    .all()
    .map((r) => r.id)
}

/** Sets a group's name and members; the roles of everyone who joined, left (or all, on a rename) follow. */
function writeGroup(
  tx: EnvTx,
  c: ScimCaller,
  id: string,
  clean: CleanGroup,
  before: { name: string; members: string[] } | null,
) {
  const { ctx, organizationId } = c
  assertMembers(tx, organizationId, clean.members)
  const now = ctx.clock.now()
  const old = new Set(before?.members ?? [])
  const next = new Set(clean.members)
  const added = clean.members.filter((m) => !old.has(m))
  const removed = [...old].filter((m) => !next.has(m))
  if (removed.length)
    for (let i = 0; i < removed.length; i += 500)
      tx.delete(scimGroupMembers)
        .where(
          and(eq(scimGroupMembers.groupId, id), inArray(scimGroupMembers.userId, removed.slice(i, i + 500))),
        )
        .run()
  for (let i = 0; i < added.length; i += 500)
    tx.insert(scimGroupMembers)
      .values(added.slice(i, i + 500).map((userId) => ({ groupId: id, userId, createdAt: now })))
      .run()
  const renamed = before !== null && before.name.toLowerCase() !== clean.displayName.toLowerCase()
  const affected = renamed ? [...new Set([...old, ...next])] : [...added, ...removed]
  if (affected.length) {
    const mapping = effectiveMapping(tx, organizationId)
    for (const userId of affected) syncMemberRole(tx, ctx, organizationId, userId, mapping)
  }
}

export function createScimGroup(c: ScimCaller, body: unknown, p: Projection): ScimResult {
  const clean = cleanGroup(body, { schemasRequired: true })
  const id = newId('scimGroup')
  withTx(c.ctx, (tx) => {
    assertNameFree(tx, c.organizationId, clean.displayName)
    const now = c.ctx.clock.now()
    tx.insert(scimGroups)
      .values({
        id,
        organizationId: c.organizationId,
        displayName: clean.displayName,
        externalId: clean.externalId,
        version: 1,
        createdAt: now,
        updatedAt: now,
      })
      .run()
    writeGroup(tx, c, id, clean, null)
    emit(tx, c.ctx, 'scimGroup.created', { ...eventData(c, id, clean), members_count: clean.members.length })
  })
  return resourceResult(present(c, requireRow(c, id), p), p, 201, 1, `${c.base}/Groups/${id}`)
}

function update(c: ScimCaller, row: GroupRowSql, clean: CleanGroup) {
  withTx(c.ctx, (tx) => {
    assertNameFree(tx, c.organizationId, clean.displayName, row.id)
    tx.update(scimGroups)
      .set({
        displayName: clean.displayName,
        externalId: clean.externalId,
        version: row.version + 1,
        updatedAt: c.ctx.clock.now(),
      })
      .where(eq(scimGroups.id, row.id))
      .run()
    writeGroup(tx, c, row.id, clean, { name: row.display_name, members: currentMembers(tx, row.id) })
    emit(tx, c.ctx, 'scimGroup.updated', {
      ...eventData(c, row.id, clean),
      members_count: clean.members.length,
    })
  })
}

export function replaceScimGroup(
  c: ScimCaller,
  id: string,
  body: unknown,
  p: Projection & { ifMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  update(c, row, cleanGroup(body, { schemasRequired: true }))
  const after = requireRow(c, id)
  return resourceResult(present(c, after, p), p, 200, after.version)
}

/** PATCH answers 204 (Entra asks for it; a group's members can be many) unless attributes are asked for. */
export function patchScimGroup(
  c: ScimCaller,
  id: string,
  body: unknown,
  p: Projection & { ifMatch?: string | null },
): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  const ops = normalisePatch('Group', body, row.id)
  const members = c.ctx.db
    .select({ id: scimGroupMembers.userId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, row.id))
    .all()
  const doc: Json = {
    schemas: [CORE_GROUP],
    id: row.id,
    displayName: row.display_name,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    ...(members.length ? { members: members.map((m) => ({ value: m.id })) } : {}),
  }
  const patched = applyPatch(doc, ops)
  delete patched.meta
  update(c, row, cleanGroup(patched, { schemasRequired: false }))
  const after = requireRow(c, id)
  if (!p.attributes.length) return { status: 204, headers: { etag: weakEtag(after.version) } }
  return resourceResult(present(c, after, p), p, 200, after.version)
}

export function deleteScimGroup(c: ScimCaller, id: string, p: { ifMatch?: string | null }): ScimResult {
  const row = requireRow(c, id)
  checkIfMatch(p.ifMatch, row.version)
  withTx(c.ctx, (tx) => {
    const members = currentMembers(tx, row.id)
    tx.delete(scimGroups).where(eq(scimGroups.id, row.id)).run()
    const mapping = effectiveMapping(tx, c.organizationId)
    for (const userId of members) syncMemberRole(tx, c.ctx, c.organizationId, userId, mapping)
    emit(tx, c.ctx, 'scimGroup.deleted', {
      ...eventData(c, row.id, { displayName: row.display_name, externalId: row.external_id }),
      deleted: true,
    })
  })
  return { status: 204 }
}
