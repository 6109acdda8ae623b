import { formParamInvalid } from '../../lib/errors'
import type { Metadata } from './schema'

/** Each metadata object is capped, as it travels in tokens and webhooks. */
export const METADATA_MAX_BYTES = 8192

export function checkMetadata(param: string, value: Metadata): Metadata {
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) {
    throw formParamInvalid(param, `${param} must be at most ${METADATA_MAX_BYTES} bytes of JSON.`)
  }
  return value
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Deep merge where objects merge key by key, `null` deletes a key, anything else replaces. */
export function deepMerge(target: Metadata, patch: Metadata): Metadata {
  const out: Metadata = { ...target }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else if (isPlainObject(value) && isPlainObject(out[key]))
      out[key] = deepMerge(out[key] as Metadata, value)
    else if (isPlainObject(value)) out[key] = deepMerge({}, value)
    else out[key] = value
  }
  return out
}
