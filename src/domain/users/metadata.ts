import { formParamInvalid } from '../../lib/errors'
import { DOCUMENT_MAX_DEPTH, jsonDepthExceeds } from '../../lib/json-limits'
import type { Metadata } from './schema'

/** Each metadata object is capped, as it travels in tokens and webhooks. */
export const METADATA_MAX_BYTES = 8192
/**
 * And so is its nesting (`{}` is one level): metadata is rendered into tokens inside JWT
 * template claims, which nest up to the same depth, and both must stay far from the depth at
 * which recursive serializers overflow.
 */
export const METADATA_MAX_DEPTH = DOCUMENT_MAX_DEPTH

/** 422 when the metadata nests too deep or is too large; the depth is checked first, without recursion. */
export function checkMetadata(param: string, value: Metadata): Metadata {
  if (jsonDepthExceeds(value, METADATA_MAX_DEPTH)) {
    throw formParamInvalid(
      param,
      `${param} must not nest objects and arrays deeper than ${METADATA_MAX_DEPTH} levels.`,
    )
  }
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) {
    throw formParamInvalid(param, `${param} must be at most ${METADATA_MAX_BYTES} bytes of JSON.`)
  }
  return value
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Deep merge where objects merge key by key, `null` deletes a key, anything else replaces.
 * Iterative (an explicit stack of object pairs still to merge), so a patch of any depth is
 * merged without recursion; checkMetadata then bounds the result.
 */
export function deepMerge(target: Metadata, patch: Metadata): Metadata {
  const out: Metadata = { ...target }
  const pending: Array<[Metadata, Metadata]> = [[out, patch]]
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [into, from] = next
    for (const [key, value] of Object.entries(from)) {
      if (value === null) delete into[key]
      else if (isPlainObject(value)) {
        const base = into[key]
        const merged: Metadata = isPlainObject(base) ? { ...base } : {}
        into[key] = merged
        pending.push([merged, value])
      } else into[key] = value
    }
  }
  return out
}

/** The metadata kinds a patch may carry, in the order they are checked, and their columns. */
const METADATA_COLUMNS = {
  public_metadata: 'publicMetadata',
  private_metadata: 'privateMetadata',
  unsafe_metadata: 'unsafeMetadata',
} as const
type MetadataColumns = { publicMetadata?: Metadata; privateMetadata?: Metadata; unsafeMetadata?: Metadata }

/**
 * The columns a metadata patch changes on a row (a user, an organization, a membership): each
 * kind the patch carries and the row has, deep-merged into the row's value and checked.
 */
export function mergeMetadataPatch(
  row: MetadataColumns,
  patch: Partial<Record<keyof typeof METADATA_COLUMNS, Metadata>>,
): MetadataColumns {
  const set: MetadataColumns = {}
  for (const [param, column] of Object.entries(METADATA_COLUMNS) as Array<
    [keyof typeof METADATA_COLUMNS, keyof MetadataColumns]
  >) {
    const change = patch[param]
    const current = row[column]
    if (change && current !== undefined) set[column] = checkMetadata(param, deepMerge(current, change))
  }
  return set
}
