/**
 * JWT template shortcodes (clerk-surface §8), a pure module: claims are compiled once when a
 * template is stored or first used, then rendered against a context at every mint.
 *
 * - `"{{user.id}}"` (the whole string is one shortcode) keeps the value's JSON type: objects
 *   stay objects, numbers stay numbers, a missing value is `null`.
 * - `"{{user.first_name}} {{user.last_name}}"` interpolates and always yields a string; a null
 *   value renders as `null`, objects as JSON.
 * - `{{a || b || 'fallback'}}` yields the first operand that is neither null nor false, else the
 *   last one. Operands are paths (`user.public_metadata.profile.plan`) or literals: quoted
 *   strings, numbers, `true`, `false`, `null`.
 * - Paths start at a known root; an unknown member anywhere along the path is `null`.
 */
import { DOCUMENT_MAX_DEPTH } from '../../lib/json-limits'

export const SHORTCODE_ROOTS = ['user', 'org', 'org_membership', 'session'] as const
export type ShortcodeRoot = (typeof SHORTCODE_ROOTS)[number]
export type ShortcodeContext = Partial<Record<ShortcodeRoot, unknown>>

type Operand = { path: string[] } | { literal: unknown }
type Expr = Operand[]
type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'value'; expr: Expr }
  | { kind: 'interpolate'; parts: Array<string | Expr> }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; entries: Array<[string, Node]> }

export interface CompiledClaims {
  readonly root: Node & { kind: 'object' }
}

export class ShortcodeError extends Error {
  override name = 'ShortcodeError'
  constructor(
    /** Where in the claims, e.g. `claims.profile.name`. */
    readonly at: string,
    message: string,
  ) {
    super(`${at}: ${message}`)
  }
}

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[^.\s|'"{}]+)*$/
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/
const ROOTS = new Set<string>(SHORTCODE_ROOTS)

function parseOperand(raw: string, at: string): Operand {
  const s = raw.trim()
  if (!s) throw new ShortcodeError(at, 'a shortcode operand is empty')
  const q = s[0]
  if (q === "'" || q === '"') {
    if (s.length < 2 || s.at(-1) !== q || s.slice(1, -1).includes(q))
      throw new ShortcodeError(at, `the string literal ${s} is not closed properly`)
    return { literal: s.slice(1, -1) }
  }
  if (s === 'true' || s === 'false' || s === 'null') return { literal: JSON.parse(s) }
  if (NUMBER.test(s)) return { literal: Number(s) }
  if (!PATH.test(s)) throw new ShortcodeError(at, `{{${s}}} is not a valid shortcode`)
  const path = s.split('.')
  if (!ROOTS.has(path[0]!)) {
    throw new ShortcodeError(at, `{{${s}}} is unknown: shortcodes start with ${SHORTCODE_ROOTS.join(', ')}`)
  }
  return { path }
}

/** Splits on `||` outside quotes. */
function parseExpr(source: string, at: string): Expr {
  const operands: string[] = []
  let quote: string | null = null
  let start = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (quote) {
      if (c === quote) quote = null
    } else if (c === "'" || c === '"') quote = c
    else if (c === '|' && source[i + 1] === '|') {
      operands.push(source.slice(start, i))
      start = i + 2
      i++
    }
  }
  operands.push(source.slice(start))
  return operands.map((o) => parseOperand(o, at))
}

/** Splits a string into literal text and `{{…}}` expressions (quotes inside may hold `}}`). */
function parseString(s: string, at: string): Node {
  if (!s.includes('{{')) return { kind: 'literal', value: s }
  const parts: Array<string | Expr> = []
  let i = 0
  while (i < s.length) {
    const open = s.indexOf('{{', i)
    if (open === -1) {
      parts.push(s.slice(i))
      break
    }
    if (open > i) parts.push(s.slice(i, open))
    let j = open + 2
    let quote: string | null = null
    for (; j < s.length; j++) {
      const c = s[j]!
      if (quote) {
        if (c === quote) quote = null
      } else if (c === "'" || c === '"') quote = c
      else if (c === '}' && s[j + 1] === '}') break
    }
    if (j >= s.length) throw new ShortcodeError(at, 'a shortcode is missing its closing }}')
    parts.push(parseExpr(s.slice(open + 2, j), at))
    i = j + 2
  }
  if (parts.length === 1 && typeof parts[0] !== 'string') return { kind: 'value', expr: parts[0]! }
  return { kind: 'interpolate', parts }
}

/**
 * Claims nest at most this deep (`{}` is one level), so compiling and rendering them, which
 * recurse, stay far from the stack's end; checkClaims refuses deeper claims with a 422.
 */
export const CLAIMS_MAX_DEPTH = DOCUMENT_MAX_DEPTH

function compileNode(value: unknown, at: string, depth: number): Node {
  if (typeof value === 'string') return parseString(value, at)
  if (value !== null && typeof value === 'object' && depth >= CLAIMS_MAX_DEPTH) {
    throw new ShortcodeError(
      at,
      `claims must not nest objects and arrays deeper than ${CLAIMS_MAX_DEPTH} levels`,
    )
  }
  if (Array.isArray(value))
    return { kind: 'array', items: value.map((v, i) => compileNode(v, `${at}[${i}]`, depth + 1)) }
  if (value !== null && typeof value === 'object') {
    if (Object.hasOwn(value, '__proto__')) throw new ShortcodeError(at, '__proto__ is not a valid claim name')
    return {
      kind: 'object',
      entries: Object.entries(value).map(([k, v]) => [k, compileNode(v, `${at}.${k}`, depth + 1)]),
    }
  }
  return { kind: 'literal', value }
}

/**
 * Throws ShortcodeError on a malformed shortcode, an unknown root or claims nested deeper than
 * CLAIMS_MAX_DEPTH. The compiled tree is no deeper, which bounds renderNode's recursion too.
 */
export function compileClaims(claims: Record<string, unknown>): CompiledClaims {
  return { root: compileNode(claims, 'claims', 0) as Node & { kind: 'object' } }
}

function lookup(context: ShortcodeContext, path: string[]): unknown {
  let value: unknown = context
  for (const key of path) {
    if (Array.isArray(value) && /^\d+$/.test(key)) value = value[Number(key)]
    else if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.hasOwn(value, key)
    )
      value = (value as Record<string, unknown>)[key]
    else return null
  }
  return value === undefined ? null : value
}

function evaluate(expr: Expr, context: ShortcodeContext): unknown {
  let value: unknown = null
  for (const operand of expr) {
    value = 'literal' in operand ? operand.literal : lookup(context, operand.path)
    if (value !== null && value !== false) return value
  }
  return value
}

const asText = (v: unknown) => (typeof v === 'string' ? v : v === null ? 'null' : JSON.stringify(v))

function renderNode(node: Node, context: ShortcodeContext): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value
    case 'value':
      return evaluate(node.expr, context)
    case 'interpolate':
      return node.parts.map((p) => (typeof p === 'string' ? p : asText(evaluate(p, context)))).join('')
    case 'array':
      return node.items.map((n) => renderNode(n, context))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, n] of node.entries) out[k] = renderNode(n, context)
      return out
    }
  }
}

export const renderClaims = (compiled: CompiledClaims, context: ShortcodeContext) =>
  renderNode(compiled.root, context) as Record<string, unknown>
