type Metadata = Record<string, unknown>

/** `scim path → target`: a user attribute to `first_name`, `last_name`, `public_metadata.<key>` or
 * `private_metadata.<key>`; a group (`groups[displayName eq "Admins"]`) to an organization role key. */
export type Mapping = Record<string, string>

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'

export const DEFAULT_MAPPING: Mapping = Object.freeze({
  'name.givenName': 'first_name',
  'name.familyName': 'last_name',
}) as Mapping

export const USER_TARGET = /^(first_name|last_name|(public|private)_metadata\.[A-Za-z0-9_-]{1,64})$/

/** The single-valued user attributes a mapping may read, in their canonical spelling. */
export const MAPPABLE_PATHS: readonly string[] = [
  'externalId',
  'displayName',
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'profileUrl',
  'name.formatted',
  'name.familyName',
  'name.givenName',
  'name.middleName',
  'name.honorificPrefix',
  'name.honorificSuffix',
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager.value'].map(
    (a) => `${ENTERPRISE_USER}:${a}`,
  ),
]
const MAPPABLE = new Map(MAPPABLE_PATHS.map((p) => [p.toLowerCase(), p]))

const GROUP_KEY = /^groups\[displayName eq ("(?:[^"\\]|\\.)*")\]$/i

export type MappingKey = { kind: 'user'; path: string } | { kind: 'group'; displayName: string }

export function parseMappingKey(key: string): MappingKey | null {
  const user = MAPPABLE.get(key.toLowerCase())
  if (user) return { kind: 'user', path: user }
  const group = GROUP_KEY.exec(key)
  if (!group) return null
  try {
    return { kind: 'group', displayName: JSON.parse(group[1]!) as string }
  } catch {
    return null
  }
}

/** A canonical path's value in a (canonicalised) resource. */
export function valueAt(resource: Record<string, unknown>, path: string): unknown {
  let base: unknown = resource
  let rest = path
  if (path.startsWith(`${ENTERPRISE_USER}:`)) {
    base = resource[ENTERPRISE_USER]
    rest = path.slice(ENTERPRISE_USER.length + 1)
  }
  for (const part of rest.split('.')) {
    if (base === null || typeof base !== 'object' || Array.isArray(base)) return undefined
    base = (base as Record<string, unknown>)[part]
  }
  return base
}

export interface MappedUser {
  firstName?: string | null
  lastName?: string | null
  publicMetadata?: Metadata
  privateMetadata?: Metadata
}

const asText = (v: unknown): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)

/**
 * The user fields a resource sets through the mapping. Metadata keys the mapping names are set
 * (or removed when the attribute is absent) on top of `current`; other keys stay as they are.
 */
export function mapUser(
  mapping: Mapping,
  resource: Record<string, unknown>,
  current: { publicMetadata: Metadata; privateMetadata: Metadata },
): MappedUser {
  const out: MappedUser = {}
  for (const [key, target] of Object.entries(mapping)) {
    const parsed = parseMappingKey(key)
    if (parsed?.kind !== 'user') continue
    const value = valueAt(resource, parsed.path)
    if (target === 'first_name') out.firstName = asText(value)
    else if (target === 'last_name') out.lastName = asText(value)
    else {
      const [bag, name] = target.split('.') as [string, string]
      const field = bag === 'public_metadata' ? 'publicMetadata' : 'privateMetadata'
      const next = { ...(out[field] ?? current[field]) }
      if (value === undefined || value === null) delete next[name]
      else next[name] = value
      out[field] = next
    }
  }
  return out
}

/** The user fields (BAPI/FAPI parameter names) the directory owns under this mapping. */
export function managedParams(mapping: Mapping): Set<string> {
  const owned = new Set(['email_address'])
  for (const [key, target] of Object.entries(mapping)) {
    if (parseMappingKey(key)?.kind !== 'user') continue
    owned.add(target)
  }
  return owned
}

/** Group display names mapped to role keys, in the mapping's order (the first match wins). */
export function groupRoles(mapping: Mapping): Array<{ displayName: string; role: string }> {
  const out: Array<{ displayName: string; role: string }> = []
  for (const [key, role] of Object.entries(mapping)) {
    const parsed = parseMappingKey(key)
    if (parsed?.kind === 'group') out.push({ displayName: parsed.displayName, role })
  }
  return out
}
