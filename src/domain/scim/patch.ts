import { ScimError as PatchLibError, type ScimPatchOperation, scimPatch } from 'scim-patch'
import type { ScimType } from './errors'
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget, scimError } from './errors'
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './mapping'
import { type AttrDef, ENTERPRISE_ATTRS, EXTERNAL_ID_ATTR, GROUP_ATTRS, USER_ATTRS } from './schemas'

/**
 * PATCH (RFC 7644 §3.5.2) as IdPs send it. The normaliser turns Entra's and Okta's shapes into
 * plain RFC operations with canonical paths: ops compared case-insensitively (`Replace`),
 * path-less add/replace split into one op per attribute (dotted keys `name.givenName` and
 * URN-prefixed keys included), Entra's `remove members` with a value array into one filtered
 * remove per member (never clearing the group), read-only targets refused (an `id` equal to the
 * resource's own, as Okta sends on rename, is dropped). `scim-patch` then applies the ops to a
 * copy; the caller validates the result as a whole body, so a bad op changes nothing.
 */

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const MAX_OPERATIONS = 1000

export type ResourceKind = 'User' | 'Group'

const byName = (defs: AttrDef[]) => new Map(defs.map((d) => [d.name.toLowerCase(), d]))
const TOP: Record<ResourceKind, Map<string, AttrDef>> = {
  User: byName([EXTERNAL_ID_ATTR, ...USER_ATTRS]),
  Group: byName([EXTERNAL_ID_ATTR, ...GROUP_ATTRS]),
}
const ENTERPRISE = byName(ENTERPRISE_ATTRS)
/** Present on every resource but not in the attribute lists: id and meta are read-only. */
const READ_ONLY_NAMES = new Set(['id', 'meta', 'schemas'])

interface Target {
  /** The canonical path for scim-patch. */
  path: string
  def: AttrDef | null
}

const ATTR = /^([A-Za-z$][A-Za-z0-9_$-]*)(\[[^\]]*\])?(?:\.([A-Za-z$][A-Za-z0-9_$-]*))?$/

/** `Emails[type eq "work"].Value` → `emails[type eq "work"].value`; unknown names are invalidPath. */
function canonicalPath(kind: ResourceKind, raw: string): Target {
  let defs = TOP[kind]
  let prefix = ''
  let rest = raw.trim()
  if (rest.toLowerCase().startsWith('urn:')) {
    const at = rest.lastIndexOf(':')
    const urn = rest.slice(0, at).toLowerCase()
    rest = rest.slice(at + 1)
    if (kind === 'User' && urn === ENTERPRISE_USER.toLowerCase()) {
      defs = ENTERPRISE
      prefix = `${ENTERPRISE_USER}:`
    } else if (urn !== (kind === 'User' ? CORE_USER : CORE_GROUP).toLowerCase()) {
      throw invalidPath(`${raw.slice(0, 200)} names a schema this server does not serve.`)
    }
  }
  const m = ATTR.exec(rest)
  if (!m) throw invalidPath(`${raw.slice(0, 200)} is not a valid attribute path.`)
  const [, name, filter = '', sub] = m
  if (!prefix && READ_ONLY_NAMES.has(name!.toLowerCase())) return { path: name!.toLowerCase(), def: null }
  const def = defs.get(name!.toLowerCase())
  if (!def) throw invalidPath(`${raw.slice(0, 200)} is not an attribute of ${kind}.`)
  if (def.mutability === 'readOnly') throw mutability(`${def.name} is read-only.`)
  let subDef: AttrDef | undefined
  if (sub) {
    subDef = def.subAttributes?.find((s) => s.name.toLowerCase() === sub.toLowerCase())
    if (!subDef) throw invalidPath(`${raw.slice(0, 200)}: ${def.name} has no sub-attribute ${sub}.`)
  }
  if (filter && !def.multiValued) throw invalidPath(`${def.name} is not multi-valued; it takes no filter.`)
  return { path: `${prefix}${def.name}${filter}${subDef ? `.${subDef.name}` : ''}`, def: subDef ?? def }
}

/** Splits a path-less value into (path, value) pairs: dotted and URN-prefixed keys, complex attributes by sub-attribute. */
function expandValue(kind: ResourceKind, value: Json, currentId: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase()
    if (lower === 'id') {
      if (v === currentId) continue
      throw mutability('id is read-only.')
    }
    if (lower === 'schemas' || lower === 'meta') continue
    if (kind === 'User' && lower === ENTERPRISE_USER.toLowerCase()) {
      if (!isObject(v)) throw invalidValue(`${ENTERPRISE_USER} must be an object.`)
      for (const [sub, sv] of Object.entries(v)) out.push([`${ENTERPRISE_USER}:${sub}`, sv])
      continue
    }
    const target = canonicalPath(kind, key)
    if (target.def?.type === 'complex' && !target.def.multiValued && isObject(v) && !key.includes('.')) {
      for (const [sub, sv] of Object.entries(v)) out.push([`${target.path}.${sub}`, sv])
      continue
    }
    out.push([key, v])
  }
  return out
}

const quote = (v: string) => JSON.stringify(v)

/** The request's operations as RFC ops with canonical paths. */
export function normalisePatch(kind: ResourceKind, body: unknown, currentId: string): ScimPatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object.')
  const schemas = body.schemas
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP))
    throw invalidSyntax(`A PATCH body lists the schema ${PATCH_OP}.`)
  const operations = body.Operations ?? body.operations
  if (!Array.isArray(operations) || operations.length === 0)
    throw invalidSyntax('A PATCH body carries a non-empty Operations array.')
  if (operations.length > MAX_OPERATIONS)
    throw invalidSyntax(`At most ${MAX_OPERATIONS} operations per request.`)
  const ops: ScimPatchOperation[] = []
  for (const raw of operations) {
    if (!isObject(raw)) throw invalidSyntax('Each operation must be an object.')
    const op = typeof raw.op === 'string' ? raw.op.toLowerCase() : ''
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw invalidSyntax(
        `${JSON.stringify(raw.op)?.slice(0, 40)} is not a PATCH operation (add, remove, replace).`,
      )
    const path = raw.path
    if (path !== undefined && path !== null && (typeof path !== 'string' || path.length > 1024))
      throw invalidPath('path must be a string.')
    if (!path) {
      if (op === 'remove') throw noTarget('A remove operation needs a path.')
      if (!isObject(raw.value)) throw invalidValue(`A ${op} without a path carries an object value.`)
      for (const [p, v] of expandValue(kind, raw.value, currentId)) {
        ops.push({ op, path: canonicalPath(kind, p).path, value: v })
      }
      continue
    }
    const target = canonicalPath(kind, path)
    if (target.def === null) {
      // id, meta, schemas: Okta's rename may repeat the id as it is.
      if (target.path === 'id' && op !== 'remove' && raw.value === currentId) continue
      throw mutability(`${target.path} is read-only.`)
    }
    if (op === 'remove') {
      // Entra: remove path "members" with the members to remove as the value.
      if (Array.isArray(raw.value) && target.def.multiValued && !target.path.includes('[')) {
        for (const item of raw.value) {
          const v = isObject(item) ? item.value : undefined
          if (typeof v !== 'string')
            throw invalidValue(`Each value to remove from ${target.path} names its value.`)
          ops.push({ op: 'remove', path: `${target.path}[value eq ${quote(v)}]` })
        }
        continue
      }
      ops.push({ op: 'remove', path: target.path })
      continue
    }
    if (!('value' in raw)) throw invalidValue(`A ${op} operation carries a value.`)
    ops.push({ op, path: target.path, value: raw.value })
  }
  return ops
}

const SCIM_TYPES = new Set<ScimType>([
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'mutability',
])

/** Applies normalised ops to a copy of `doc`; the library's errors become SCIM errors. */
export function applyPatch<T extends Json>(doc: T, ops: ScimPatchOperation[]): T {
  const withMeta = {
    ...doc,
    meta: (doc.meta as Json | undefined) ?? { created: new Date(0), lastModified: new Date(0) },
  }
  // Removing a filtered value of an attribute that has none is done already (Entra removes
  // members idempotently); scim-patch would call it a search on a mono-valued attribute. So
  // ops apply one at a time, each seeing the result of the ones before it.
  let current = structuredClone(withMeta) as Json
  try {
    for (const op of ops) {
      if (op.op === 'remove' && op.path.includes('[')) {
        const values = current[op.path.slice(0, op.path.indexOf('['))]
        if (!Array.isArray(values) || values.length === 0) continue
      }
      current = scimPatch(current as never, [op], {
        mutateDocument: true,
        treatMissingAsAdd: true,
      }) as unknown as Json
    }
    return current as T
  } catch (err) {
    if (err instanceof PatchLibError) {
      const code = (err as PatchLibError & { scimCode?: string }).scimCode as ScimType
      throw scimError(400, SCIM_TYPES.has(code) ? code : 'invalidPath', err.message.slice(0, 300))
    }
    throw invalidPath('The operation could not be applied to this resource.')
  }
}
