import { invalidSyntax, invalidValue } from './errors'
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './mapping'
import { type AttrDef, ENTERPRISE_ATTRS, EXTERNAL_ID_ATTR, GROUP_ATTRS, USER_ATTRS } from './schemas'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A string as long as this is refused: no IdP sends one, and it would bloat every list. */
const MAX_STRING = 4096

const byName = (defs: AttrDef[]) => new Map(defs.map((d) => [d.name.toLowerCase(), d]))
const USER_DEFS = byName([EXTERNAL_ID_ATTR, ...USER_ATTRS])
const ENTERPRISE_DEFS = byName(ENTERPRISE_ATTRS)
const GROUP_DEFS = byName(GROUP_ATTRS)

/** Entra sends booleans as "True"/"False"; everything else must be a JSON boolean. */
export function asBoolean(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true'
  throw invalidValue(`${path} must be a boolean.`)
}

function scalar(def: AttrDef, v: unknown, path: string): unknown {
  if (def.type === 'boolean') return asBoolean(v, path)
  if (typeof v !== 'string') throw invalidValue(`${path} must be a string.`)
  if (v.length > MAX_STRING) throw invalidValue(`${path} is longer than ${MAX_STRING} characters.`)
  return v
}

/** Sub-attributes by their canonical names; unknown and read-only ones are dropped. */
function complexValue(
  defs: Map<string, AttrDef>,
  v: unknown,
  path: string,
  keepReadOnly: boolean,
): Json | undefined {
  if (!isObject(v)) throw invalidValue(`${path} must be an object.`)
  const out: Json = {}
  for (const [key, raw] of Object.entries(v)) {
    const def = defs.get(key.toLowerCase())
    if (!def || (def.mutability === 'readOnly' && !keepReadOnly) || def.mutability === 'writeOnly') continue
    const value = cleanValue(def, raw, `${path}.${def.name}`)
    if (value !== undefined) out[def.name] = value
  }
  return Object.keys(out).length ? out : undefined
}

const subDefs = new WeakMap<AttrDef, Map<string, AttrDef>>()
const subsOf = (def: AttrDef) => {
  let m = subDefs.get(def)
  if (!m) {
    m = byName(def.subAttributes ?? [])
    subDefs.set(def, m)
  }
  return m
}

function cleanValue(def: AttrDef, v: unknown, path: string): unknown {
  if (v === null || v === undefined) return undefined
  if (def.multiValued) {
    if (!Array.isArray(v)) throw invalidValue(`${path} must be an array.`)
    const items = v
      .map((item, i) =>
        def.type === 'complex'
          ? complexValue(subsOf(def), item, `${path}[${i}]`, false)
          : scalar(def, item, path),
      )
      .filter((item) => item !== undefined)
    if (items.filter((item) => isObject(item) && item.primary === true).length > 1)
      throw invalidValue(`Only one of ${path} may be primary.`)
    return items.length ? items : undefined
  }
  if (def.type === 'complex') return complexValue(subsOf(def), v, path, false)
  return scalar(def, v, path)
}

function checkSchemas(input: Json, required: boolean): string[] | undefined {
  const schemas = input.schemas
  if (schemas === undefined && !required) return undefined
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string'))
    throw invalidSyntax('The request body must list its schemas (an array of URIs).')
  return schemas as string[]
}

export interface CleanUser {
  resource: Json
  userName: string
  externalId: string | null
  active: boolean | undefined
}

/**
 * A User body as we keep it: attribute names canonical, values type-checked (string booleans
 * coerced), read-only (`id`, `meta`, `groups`), write-only (`password`) and unknown attributes
 * dropped, null meaning absent. `active` is kept apart (it is the user's ban flag).
 */
export function cleanUser(input: unknown, opts: { schemasRequired: boolean }): CleanUser {
  if (!isObject(input)) throw invalidSyntax('The request body must be a JSON object.')
  checkSchemas(input, opts.schemasRequired)
  const resource: Json = {}
  let active: boolean | undefined
  for (const [key, raw] of Object.entries(input)) {
    const lower = key.toLowerCase()
    if (lower === ENTERPRISE_USER.toLowerCase()) {
      const ext = raw === null ? undefined : complexValue(ENTERPRISE_DEFS, raw, ENTERPRISE_USER, false)
      if (ext) resource[ENTERPRISE_USER] = ext
      continue
    }
    const def = USER_DEFS.get(lower)
    if (!def || def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue
    if (def.name === 'active') {
      if (raw !== null && raw !== undefined) active = asBoolean(raw, 'active')
      continue
    }
    const value = cleanValue(def, raw, def.name)
    if (value !== undefined) resource[def.name] = value
  }
  const userName = resource.userName
  if (typeof userName !== 'string' || userName.trim() === '') throw invalidValue('userName is required.')
  const schemas = [CORE_USER, ...(resource[ENTERPRISE_USER] ? [ENTERPRISE_USER] : [])]
  return {
    resource: { schemas, ...resource },
    userName,
    externalId: typeof resource.externalId === 'string' ? resource.externalId : null,
    active,
  }
}

export interface CleanGroup {
  displayName: string
  externalId: string | null
  members: string[]
}

export function cleanGroup(input: unknown, opts: { schemasRequired: boolean }): CleanGroup {
  if (!isObject(input)) throw invalidSyntax('The request body must be a JSON object.')
  checkSchemas(input, opts.schemasRequired)
  let displayName: unknown
  let externalId: string | null = null
  const members: string[] = []
  for (const [key, raw] of Object.entries(input)) {
    const lower = key.toLowerCase()
    if (lower === 'externalid' && raw !== null)
      externalId = scalar(EXTERNAL_ID_ATTR, raw, 'externalId') as string
    const def = GROUP_DEFS.get(lower)
    if (!def) continue
    if (def.name === 'displayName') displayName = raw
    if (def.name === 'members' && raw !== null && raw !== undefined) {
      const list = cleanValue(def, raw, 'members') as Json[] | undefined
      for (const [i, m] of (list ?? []).entries()) {
        if (typeof m.value !== 'string' || !m.value) throw invalidValue(`members[${i}].value is required.`)
        if (!members.includes(m.value)) members.push(m.value)
      }
    }
  }
  if (typeof displayName !== 'string' || displayName.trim() === '')
    throw invalidValue('displayName is required.')
  if (displayName.length > 256) throw invalidValue('displayName is longer than 256 characters.')
  return { displayName, externalId, members }
}

// ---- attributes / excludedAttributes -------------------------------------------------------

/** `name.givenName` → [name, givenName]; `urn:…:User:department` → [urn…, department]; core URNs drop out. */
export function splitPath(path: string): string[] {
  if (!path.toLowerCase().startsWith('urn:')) return path.split('.')
  const at = path.lastIndexOf(':')
  const urn = path.slice(0, at)
  const rest = path.slice(at + 1).split('.')
  const core = urn.toLowerCase()
  if (core === CORE_USER.toLowerCase() || core === CORE_GROUP.toLowerCase()) return rest
  return [urn, ...rest]
}

const keyOf = (obj: Json, name: string) =>
  Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase())

/** A pruned copy of `src` holding only the path (through arrays, element by element). */
function pick(src: unknown, parts: string[]): unknown {
  if (!parts.length) return src
  if (Array.isArray(src)) {
    const items = src.map((item) => pick(item, parts)).filter((i) => i !== undefined)
    return items.length ? items : undefined
  }
  if (!isObject(src)) return undefined
  const key = keyOf(src, parts[0]!)
  if (key === undefined) return undefined
  const inner = pick(src[key], parts.slice(1))
  return inner === undefined ? undefined : { [key]: inner }
}

function merge(into: Json, add: Json) {
  for (const [k, v] of Object.entries(add)) {
    const have = into[k]
    if (isObject(have) && isObject(v)) merge(have, v)
    else if (Array.isArray(have) && Array.isArray(v))
      have.forEach((h, i) => {
        if (isObject(h) && isObject(v[i])) merge(h, v[i] as Json)
      })
    else into[k] = v
  }
}

function drop(obj: unknown, parts: string[]) {
  if (Array.isArray(obj)) {
    for (const item of obj) drop(item, parts)
    return
  }
  if (!isObject(obj)) return
  const key = keyOf(obj, parts[0]!)
  if (key === undefined) return
  if (parts.length === 1) delete obj[key]
  else drop(obj[key], parts.slice(1))
}

/** Parses a comma-separated attribute list (`attributes=userName,name.givenName`). */
export const attributeList = (raw: string | undefined): string[] =>
  raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .slice(0, 100)
    : []

/**
 * RFC 7644 §3.4.2.5: `attributes` keeps only the named ones (plus id and schemas, returned
 * always); `excludedAttributes` removes the named ones (never id or schemas).
 */
export function project(resource: Json, attributes: string[], excluded: string[]): Json {
  if (attributes.length) {
    const out: Json = { schemas: resource.schemas, id: resource.id }
    for (const path of attributes) {
      const picked = pick(resource, splitPath(path))
      if (picked !== undefined) merge(out, picked as Json)
    }
    return out
  }
  if (!excluded.length) return resource
  const out = structuredClone(resource)
  for (const path of excluded) {
    const parts = splitPath(path)
    if (parts.length === 1 && ['id', 'schemas'].includes(parts[0]!.toLowerCase())) continue
    drop(out, parts)
  }
  return out
}
