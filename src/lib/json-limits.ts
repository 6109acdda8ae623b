/**
 * Bounds on the shape of JSON we accept from callers, and the walks that check them without
 * recursion: a 1 MiB body of `[[[[…` is 500 000 levels deep, enough to overflow the stack of any
 * recursive walker (ours, TypeBox's, JSON.stringify's) and to make Elysia's validation error
 * quadratic (it pretty-prints the value it refused).
 */

/**
 * Request bodies (checked by the dispatcher before routing). The deepest body we model is a bulk
 * invitation list (`[{ public_metadata: {…} }]`): two levels of envelope around metadata that
 * nests up to DOCUMENT_MAX_DEPTH levels, so 64 leaves room. 10 000 values is ~100 per invitation
 * in a 100-invitation bulk call. Past the depth bound nothing is parsed; within both bounds a
 * body's cost grows with its values (TypeBox and Elysia walk every key of an object it refuses),
 * and 10 000 keeps the widest 1 MiB body in the tens of milliseconds (bench/tenant-isolation.ts).
 */
export const BODY_MAX_DEPTH = 64
export const BODY_MAX_VALUES = 10_000
/** Fields of a form body (application/x-www-form-urlencoded or multipart/form-data). */
export const FORM_MAX_FIELDS = 1_000

/** Nesting allowed inside stored JSON documents (metadata, JWT template claims). */
export const DOCUMENT_MAX_DEPTH = 32

export interface JsonLimits {
  /** Containers inside containers: `1` is depth 0, `[]` depth 1, `{"a":[]}` depth 2. */
  maxDepth: number
  /** Every value counts: the root, each array item and each object member. */
  maxValues: number
}

export type JsonExcess = { limit: 'depth'; max: number } | { limit: 'values'; max: number }
/** What a JSON text within its limits holds: its deepest nesting and its number of values. */
export interface JsonShape {
  depth: number
  values: number
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const COMMA = 0x2c

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * One pass over JSON text, without building anything, stopping at the first limit passed:
 * the limit passed, or the text's shape when it is within both.
 * Strings are skipped whole (escapes honoured), so brackets and commas inside them do not count.
 * The text need not be valid JSON: JSON.parse decides that afterwards, on text known to be
 * within bounds. O(length), no recursion, no allocation.
 */
export function measureJsonText(text: string, limits: JsonLimits): JsonExcess | JsonShape {
  const n = text.length
  let depth = 0
  let deepest = 0
  let values = 1
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // The closing quote is the next one not escaped by an odd run of backslashes.
      let end = text.indexOf('"', i + 1)
      for (;;) {
        if (end === -1) return { depth: deepest, values } // unterminated: JSON.parse refuses it
        let slashes = 0
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++
        if (slashes % 2 === 0) break
        end = text.indexOf('"', end + 1)
      }
      i = end + 1
      continue
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limits.maxDepth) return { limit: 'depth', max: limits.maxDepth }
      if (depth > deepest) deepest = depth
      let j = i + 1
      while (j < n && isSpace(text.charCodeAt(j))) j++
      const next = text.charCodeAt(j)
      // A non-empty container holds one value more than it has commas.
      if (next !== CLOSE_ARRAY && next !== CLOSE_OBJECT && ++values > limits.maxValues) {
        return { limit: 'values', max: limits.maxValues }
      }
      i = j
      continue
    }
    if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--
    else if (c === COMMA && ++values > limits.maxValues) return { limit: 'values', max: limits.maxValues }
    i++
  }
  return { depth: deepest, values }
}

export const isExcess = (m: JsonExcess | JsonShape): m is JsonExcess => 'limit' in m

/**
 * Whether a parsed JSON value nests containers deeper than `maxDepth` (same counting as
 * jsonTextExcess). Iterative, and it stops at the first container past the bound, so it is
 * safe on any value, however deep.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d + 1 > maxDepth) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1])
    }
  }
  return false
}
