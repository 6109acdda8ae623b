import type { EnvContext } from '../../tenancy/context'
import { invalidValue, scimError } from './errors'
import { attributeList, project } from './resource'
import { MAX_RESULTS } from './schemas'

type Json = Record<string, unknown>

/** Who is calling: the env, the organization the bearer token stands for, and the base URL. */
export interface ScimCaller {
  ctx: EnvContext
  organizationId: string
  /** `https://<frontend host>/scim/v2`, for `meta.location` and `$ref`s. */
  base: string
}

/** What a SCIM endpoint answers; the route writes it as application/scim+json. */
export interface ScimResult {
  status: number
  body?: Json
  headers?: Record<string, string>
}

export interface ListParams {
  filter?: string
  startIndex?: string
  count?: string
  sortBy?: string
  sortOrder?: string
  attributes: string[]
  excluded: string[]
}

export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const DEFAULT_COUNT = 100

export const iso = (ms: number) => new Date(ms).toISOString()
export const weakEtag = (version: number) => `W/"${version}"`

function integer(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined
  if (!/^-?\d{1,15}$/.test(raw.trim())) throw invalidValue(`${name} must be an integer.`)
  return Number(raw)
}

/** startIndex is 1-based (below 1 means 1); count is clamped to 0…maxResults. */
export function pageParams(q: ListParams) {
  const start = integer(q.startIndex, 'startIndex') ?? 1
  const count = integer(q.count, 'count') ?? DEFAULT_COUNT
  return { startIndex: Math.max(1, start), count: Math.min(Math.max(0, count), MAX_RESULTS) }
}

/** Reads `attributes` / `excludedAttributes` from a query. */
export const projection = (q: { attributes?: string; excludedAttributes?: string }) => ({
  attributes: attributeList(q.attributes),
  excluded: attributeList(q.excludedAttributes),
})

export function listResponse(
  resources: Json[],
  total: number,
  startIndex: number,
  p: ListParams,
): ScimResult {
  return {
    status: 200,
    body: {
      schemas: [LIST_RESPONSE],
      totalResults: total,
      startIndex,
      itemsPerPage: resources.length,
      Resources: resources.map((r) => project(r, p.attributes, p.excluded)),
    },
  }
}

export function resourceResult(
  resource: Json,
  p: { attributes: string[]; excluded: string[] },
  status: number,
  version: number,
  location?: string,
): ScimResult {
  return {
    status,
    body: project(resource, p.attributes, p.excluded),
    headers: { etag: weakEtag(version), ...(location ? { location } : {}) },
  }
}

export const notModified = (etag: string): ScimResult => ({ status: 304, headers: { etag } })

/** If-Match (RFC 7644 §3.14): a version other than the current one is a 412. */
export function checkIfMatch(ifMatch: string | null | undefined, version: number) {
  if (!ifMatch || ifMatch.trim() === '*') return
  const tags = ifMatch.split(',').map((t) => t.trim())
  if (!tags.includes(weakEtag(version)) && !tags.includes(`"${version}"`))
    throw scimError(412, null, 'The resource has changed since that version (If-Match).')
}
