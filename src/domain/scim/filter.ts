import { type Filter, parse } from 'scim2-parse-filter'
import { invalidFilter } from './errors'
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './mapping'

/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled to parameterised SQL over an allow-list of
 * attributes. Values are always bound, never spliced; attributes that are not case-exact
 * compare with COLLATE NOCASE (`userName eq "BJensen"` finds `bjensen`). A comparison on a
 * multi-valued attribute is an EXISTS over its values; a value path (`emails[type eq "work"]`)
 * constrains one value, and `emails[type eq "work"].value eq "x"` means the same value.
 */

type Kind = 'string' | 'boolean' | 'dateTime'

export interface Column {
  kind: Kind
  caseExact: boolean
  /** An SQL expression over the resource's row alias (or the value alias inside EXISTS). */
  sql: string
}

export interface MultiValued {
  kind: 'multi'
  /** EXISTS over the values, each tested by `cond`. */
  exists: (cond: string) => string
  /** Sub-attributes, lower-cased, of one value. */
  subs: Map<string, Column>
}

export type Attribute = Column | MultiValued

export type AttributeTable = Map<string, Attribute>

export interface Compiled {
  where: string
  params: Array<string | number>
}

const MAX_FILTER_LENGTH = 2048
const MAX_NODES = 64

const col = (kind: Kind, caseExact: boolean, sql: string): Column => ({ kind, caseExact, sql })
const jsonText = (alias: string, path: string) => `json_extract(${alias}, '${path}')`

/** `$.name.givenName`, or `$."urn:…:User".department` for the enterprise extension. */
const jsonPath = (parts: string[]) =>
  `$${parts.map((p) => (/^[A-Za-z0-9_$]+$/.test(p) ? `.${p}` : `."${p}"`)).join('')}`

function valueSubs(alias: string, names: Array<[string, Kind]>) {
  return new Map(names.map(([n, kind]) => [n.toLowerCase(), col(kind, false, jsonText(alias, `$.${n}`))]))
}

const jsonMulti = (resource: string, name: string, subs: Array<[string, Kind]>): MultiValued => ({
  kind: 'multi',
  exists: (cond) => `EXISTS (SELECT 1 FROM json_each(${resource}, '$.${name}') e WHERE ${cond})`,
  subs: valueSubs('e.value', subs),
})

const SIMPLE_USER_STRINGS = [
  'displayName',
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'profileUrl',
]
const NAME_PARTS = [
  'formatted',
  'familyName',
  'givenName',
  'middleName',
  'honorificPrefix',
  'honorificSuffix',
]
const ENTERPRISE_STRINGS = ['employeeNumber', 'costCenter', 'organization', 'division', 'department']

/** What a Users filter may name, over `su` (scim_users). */
export const USER_FILTER_ATTRS: AttributeTable = new Map<string, Attribute>([
  ['id', col('string', true, 'su.user_id')],
  ['externalid', col('string', true, 'su.external_id')],
  ['username', col('string', false, 'su.user_name')],
  ['active', col('boolean', false, 'su.active')],
  ['meta.created', col('dateTime', false, 'su.created_at')],
  ['meta.lastmodified', col('dateTime', false, 'su.updated_at')],
  ...SIMPLE_USER_STRINGS.map(
    (n) =>
      [n.toLowerCase(), col('string', false, jsonText('su.resource', jsonPath([n])))] as [string, Attribute],
  ),
  ...NAME_PARTS.map(
    (n) =>
      [`name.${n.toLowerCase()}`, col('string', false, jsonText('su.resource', jsonPath(['name', n])))] as [
        string,
        Attribute,
      ],
  ),
  ...[...ENTERPRISE_STRINGS, 'manager.value'].map(
    (n) =>
      [
        `${ENTERPRISE_USER.toLowerCase()}:${n.toLowerCase()}`,
        col(
          'string',
          n === 'manager.value',
          jsonText('su.resource', jsonPath([ENTERPRISE_USER, ...n.split('.')])),
        ),
      ] as [string, Attribute],
  ),
  [
    'emails',
    jsonMulti('su.resource', 'emails', [
      ['value', 'string'],
      ['type', 'string'],
      ['display', 'string'],
      ['primary', 'boolean'],
    ]),
  ],
  [
    'phonenumbers',
    jsonMulti('su.resource', 'phoneNumbers', [
      ['value', 'string'],
      ['type', 'string'],
      ['primary', 'boolean'],
    ]),
  ],
  [
    'groups',
    {
      kind: 'multi',
      exists: (cond) =>
        `EXISTS (SELECT 1 FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id WHERE gm.user_id = su.user_id AND ${cond})`,
      subs: new Map([
        ['value', col('string', true, 'g.id')],
        ['display', col('string', false, 'g.display_name')],
      ]),
    },
  ],
])

/** What a Groups filter may name, over `g` (scim_groups). */
export const GROUP_FILTER_ATTRS: AttributeTable = new Map<string, Attribute>([
  ['id', col('string', true, 'g.id')],
  ['externalid', col('string', true, 'g.external_id')],
  ['displayname', col('string', false, 'g.display_name')],
  ['meta.created', col('dateTime', false, 'g.created_at')],
  ['meta.lastmodified', col('dateTime', false, 'g.updated_at')],
  [
    'members',
    {
      kind: 'multi',
      exists: (cond) => `EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND ${cond})`,
      subs: new Map([['value', col('string', true, 'm.user_id')]]),
    },
  ],
])

const CORE_PREFIXES = [`${CORE_USER.toLowerCase()}:`, `${CORE_GROUP.toLowerCase()}:`]

/** Attribute names are case-insensitive; the core schema's URN prefix may lead. */
function normalise(path: string): string {
  const lower = path.toLowerCase()
  for (const p of CORE_PREFIXES) if (lower.startsWith(p)) return lower.slice(p.length)
  return lower
}

const escapeLike = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`)

type Leaf = { op: string; compValue?: unknown }

function leaf(c: Column, node: Leaf, path: string, params: Array<string | number>): string {
  const { op } = node
  if (op === 'pr') {
    return c.kind === 'string' ? `(${c.sql} IS NOT NULL AND ${c.sql} <> '')` : `${c.sql} IS NOT NULL`
  }
  const v = node.compValue
  if (v === null)
    throw invalidFilter(`${path} ${op} null is not a comparison this server makes; use "pr" or "not (… pr)".`)
  if (c.kind === 'boolean') {
    const b =
      typeof v === 'boolean'
        ? v
        : typeof v === 'string' && /^(true|false)$/i.test(v)
          ? v.toLowerCase() === 'true'
          : null
    if (b === null) throw invalidFilter(`${path} is a boolean; compare it with true or false.`)
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${path} is a boolean; only eq, ne and pr apply.`)
    params.push(b ? 1 : 0)
    return op === 'eq' ? `${c.sql} = ?` : `(${c.sql} IS NULL OR ${c.sql} <> ?)`
  }
  if (typeof v !== 'string')
    throw invalidFilter(`${path} is a ${c.kind === 'dateTime' ? 'dateTime' : 'string'}; quote the value.`)
  if (c.kind === 'dateTime') {
    const ms = Date.parse(v)
    if (Number.isNaN(ms)) throw invalidFilter(`${path} compares with an ISO 8601 date-time.`)
    const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op]
    if (!sqlOp) throw invalidFilter(`${path} is a date-time; ${op} does not apply.`)
    params.push(ms)
    return `${c.sql} ${sqlOp} ?`
  }
  const collate = c.caseExact ? '' : ' COLLATE NOCASE'
  switch (op) {
    case 'eq':
      params.push(v)
      return `${c.sql} = ?${collate}`
    case 'ne':
      params.push(v)
      return `(${c.sql} IS NULL OR ${c.sql} <> ?${collate})`
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      params.push(v)
      return `${c.sql} ${{ gt: '>', ge: '>=', lt: '<', le: '<=' }[op]} ?${collate}`
    case 'co':
    case 'sw':
    case 'ew': {
      if (v === '') return `${c.sql} IS NOT NULL`
      if (c.caseExact) {
        if (op === 'co') {
          params.push(v)
          return `instr(${c.sql}, ?) > 0`
        }
        params.push(v, v)
        return op === 'sw' ? `substr(${c.sql}, 1, length(?)) = ?` : `substr(${c.sql}, -length(?)) = ?`
      }
      const pattern =
        op === 'co' ? `%${escapeLike(v)}%` : op === 'sw' ? `${escapeLike(v)}%` : `%${escapeLike(v)}`
      params.push(pattern)
      return `${c.sql} LIKE ? ESCAPE '\\'`
    }
    default:
      throw invalidFilter(`${op} is not a SCIM comparison operator.`)
  }
}

interface Scope {
  attrs: Map<string, Attribute>
  /** Inside a value path: the attributes are the sub-attributes of one value. */
  inner: boolean
}

function resolve(scope: Scope, rawPath: string): { column: Column } | { multi: MultiValued; sub: Column } {
  const path = normalise(rawPath)
  const direct = scope.attrs.get(path)
  if (direct && direct.kind !== 'multi') return { column: direct }
  if (direct?.kind === 'multi') return { multi: direct, sub: direct.subs.get('value')! }
  const dot = path.lastIndexOf('.')
  if (dot > 0 && !scope.inner) {
    const parent = scope.attrs.get(path.slice(0, dot))
    const sub = parent?.kind === 'multi' ? parent.subs.get(path.slice(dot + 1)) : undefined
    if (parent?.kind === 'multi' && sub) return { multi: parent, sub }
  }
  throw invalidFilter(`${rawPath.slice(0, 200)} is not an attribute this server can filter on.`)
}

function compileNode(
  node: Filter,
  scope: Scope,
  params: Array<string | number>,
  count: { n: number },
): string {
  if (++count.n > MAX_NODES) throw invalidFilter(`The filter has more than ${MAX_NODES} terms.`)
  switch (node.op) {
    case 'and':
    case 'or': {
      const [first, second] = node.filters
      // `emails[type eq "work"].value eq "x"` arrives as (emails[type eq "work"]) and (emails.value eq "x").
      if (
        node.op === 'and' &&
        node.filters.length === 2 &&
        first?.op === '[]' &&
        second &&
        'attrPath' in second
      ) {
        const prefix = `${normalise(first.attrPath)}.`
        const subPath = normalise(second.attrPath)
        const multi = scope.attrs.get(normalise(first.attrPath))
        if (!scope.inner && multi?.kind === 'multi' && subPath.startsWith(prefix)) {
          const inner: Scope = { attrs: multi.subs, inner: true }
          const a = compileNode(first.valFilter, inner, params, count)
          const b = compileNode(
            { ...second, attrPath: subPath.slice(prefix.length) } as Filter,
            inner,
            params,
            count,
          )
          return multi.exists(`(${a}) AND (${b})`)
        }
      }
      const parts = node.filters.map((f) => `(${compileNode(f, scope, params, count)})`)
      return parts.join(node.op === 'and' ? ' AND ' : ' OR ')
    }
    case 'not':
      // NOT of an absent attribute's comparison (NULL) must be true, not NULL.
      return `NOT COALESCE((${compileNode(node.filter, scope, params, count)}), 0)`
    case '[]': {
      if (scope.inner) throw invalidFilter('Value paths do not nest.')
      const multi = scope.attrs.get(normalise(node.attrPath))
      if (multi?.kind !== 'multi')
        throw invalidFilter(`${node.attrPath.slice(0, 200)} is not a multi-valued attribute.`)
      return multi.exists(compileNode(node.valFilter, { attrs: multi.subs, inner: true }, params, count))
    }
    default: {
      const target = resolve(scope, node.attrPath)
      if ('column' in target) return leaf(target.column, node, node.attrPath, params)
      return target.multi.exists(leaf(target.sub, node, node.attrPath, params))
    }
  }
}

/** Parses and compiles a filter; any problem is a 400 invalidFilter. */
export function compileFilter(text: string, attrs: AttributeTable): Compiled {
  if (text.length > MAX_FILTER_LENGTH)
    throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters.`)
  let ast: Filter
  try {
    ast = parse(text)
  } catch {
    throw invalidFilter('The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2).')
  }
  const params: Array<string | number> = []
  const where = compileNode(ast, { attrs, inner: false }, params, { n: 0 })
  return { where: `(${where})`, params }
}

/** sortBy: the attributes a list may be ordered by, as SQL expressions. */
export function sortExpression(path: string, attrs: AttributeTable): string {
  const a = attrs.get(normalise(path))
  if (a && a.kind !== 'multi') return a.caseExact ? a.sql : `${a.sql} COLLATE NOCASE`
  if (a?.kind === 'multi' || path.toLowerCase() === 'emails.value') {
    // A multi-valued attribute sorts by its primary (or first) value.
    const base = attrs.get(normalise(path).split('.')[0]!)
    if (base?.kind === 'multi' && normalise(path).startsWith('emails'))
      return `(SELECT json_extract(e.value, '$.value') FROM json_each(su.resource, '$.emails') e ORDER BY json_extract(e.value, '$.primary') DESC, e.key LIMIT 1) COLLATE NOCASE`
  }
  throw invalidFilter(`${path.slice(0, 200)} is not an attribute this server can sort by.`)
}
