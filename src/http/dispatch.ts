import {
  BODY_MAX_DEPTH,
  BODY_MAX_VALUES,
  FORM_MAX_FIELDS,
  isExcess,
  type JsonLimits,
  type JsonShape,
  measureJsonText,
} from '../lib/json-limits'
import { bodyTooComplex, bodyTooLarge, malformedRequest, unsupportedContentType } from './shared/errors'
import { type RequestState, setRequestState } from './shared/request-state'

const TRACE_ID = /^[A-Za-z0-9._-]{8,64}$/

/** An upstream proxy's id is kept when it looks like one, so logs join up across hops. */
export function traceIdFor(request: Request): string {
  const inbound = request.headers.get('x-trace-id') ?? request.headers.get('x-request-id')
  return inbound && TRACE_ID.test(inbound) ? inbound : crypto.randomUUID().replaceAll('-', '')
}

/** How a surface takes request bodies, before its app sees them. */
export interface BodyPolicy {
  /** Bigger bodies are a 413 before any parser runs; defaults to the server's maxBodyBytes. */
  maxBytes?: number
  /**
   * 'must-parse': the body is checked here before the app's parser sees it: a JSON body must
   * parse (a 400 otherwise, also on routes whose body is optional) and, like a form body, stay
   * within the shape limits below (a 400 request_body_too_complex otherwise). 'unchecked': the
   * bytes go on as they came, for routes that read the raw body (`parse: 'none'`: OAuth token
   * requests, SAML responses, webhook signatures).
   */
  json: 'must-parse' | 'unchecked'
  /** Media types a body may have (415 otherwise); unset: any, the app's parser decides. */
  accept?: readonly string[]
  /** JSON nesting ('must-parse'); default BODY_MAX_DEPTH. Also caps a form field name's path. */
  maxDepth?: number
  /** Values in a JSON body, root, array items and object members ('must-parse'); default BODY_MAX_VALUES. */
  maxValues?: number
  /** Fields of a form body ('must-parse'); default FORM_MAX_FIELDS. */
  maxFields?: number
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const mediaType = (request: Request) =>
  request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? ''

const FORM = 'application/x-www-form-urlencoded'
const MULTIPART = 'multipart/form-data'

/** Which check a 'must-parse' body gets, by the parser the app would pick for it. */
function bodyKind(request: Request): 'json' | 'form' | 'multipart' | null {
  const type = mediaType(request)
  if (type.includes('json')) return 'json'
  if (type === FORM) return 'form'
  if (type === MULTIPART) return 'multipart'
  return null
}

const jsonLimits = (policy: BodyPolicy): JsonLimits => ({
  maxDepth: policy.maxDepth ?? BODY_MAX_DEPTH,
  maxValues: policy.maxValues ?? BODY_MAX_VALUES,
})

function assertJsonWithin(text: string, limits: JsonLimits, what: string): JsonShape {
  const shape = measureJsonText(text, limits)
  if (!isExcess(shape)) return shape
  throw bodyTooComplex(
    shape.limit === 'depth'
      ? `${what} nests arrays and objects deeper than ${shape.max} levels.`
      : `${what} holds more than ${shape.max} values.`,
  )
}

/**
 * Routes whose body is optional would otherwise run as if no body came when the JSON is
 * broken; a malformed JSON body is a 400 everywhere. Its shape is bounded before it is parsed:
 * a deep body would overflow the recursive walks after us (and JSON.parse costs ~1 ms per
 * thousand levels), so nesting and the number of values are counted in one pass over the text.
 * The parsed value goes to the app (`edgeParsedBody`), so a body is parsed once.
 */
function parseJson(text: string, policy: BodyPolicy): { value: unknown } | undefined {
  if (text.trim() === '') return undefined
  assertJsonWithin(text, jsonLimits(policy), 'The JSON body')
  try {
    return { value: JSON.parse(text) }
  } catch {
    throw malformedRequest()
  }
}

/** URL-encoded forms are flat (Elysia keeps field names as they are): only the field count. */
function checkForm(text: string, policy: BodyPolicy) {
  const max = policy.maxFields ?? FORM_MAX_FIELDS
  let fields = 1
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (++fields > max) throw bodyTooComplex(`The form body has more than ${max} fields.`)
  }
}

const ARRAY_INDEX = /\[(\d+)\]/g

/**
 * Elysia turns a multipart field named `a.b[3]` into nested objects and arrays (an index makes
 * an array that long: `a[99999999]` is a hundred million holes for validation to walk) and
 * parses a value that starts with `{` or `[` as JSON, so the fields' names and JSON values are
 * bounded together as one JSON body is: the nesting of a name's path plus its value's, and the
 * values of all fields.
 */
async function checkMultipart(bytes: ArrayBuffer, contentType: string, policy: BodyPolicy) {
  let form: Array<[string, unknown]>
  try {
    const parsed = await new Response(bytes, { headers: { 'content-type': contentType } }).formData()
    form = []
    parsed.forEach((value, name) => {
      form.push([name, value])
    })
  } catch {
    throw malformedRequest()
  }
  const maxFields = policy.maxFields ?? FORM_MAX_FIELDS
  if (form.length > maxFields) throw bodyTooComplex(`The form body has more than ${maxFields} fields.`)
  const { maxDepth, maxValues } = jsonLimits(policy)
  let values = 1
  for (const [name, value] of form) {
    let pathDepth = name.split('.').length
    for (const [, index] of name.matchAll(ARRAY_INDEX)) {
      pathDepth++
      if (Number(index) >= maxFields) {
        throw bodyTooComplex(`A form field name has an array index of ${maxFields} or more.`)
      }
    }
    if (pathDepth > maxDepth) throw bodyTooComplex(`A form field name nests deeper than ${maxDepth} levels.`)
    values++
    if (typeof value === 'string' && (value.startsWith('{') || value.startsWith('['))) {
      // The field's value is its JSON's root, already counted.
      const shape = measureJsonText(value, {
        maxDepth: maxDepth - pathDepth,
        maxValues: maxValues - values + 1,
      })
      if (isExcess(shape)) {
        throw bodyTooComplex(
          shape.limit === 'depth'
            ? `The form body nests arrays and objects deeper than ${maxDepth} levels.`
            : `The form body holds more than ${maxValues} values.`,
        )
      }
      values += shape.values - 1
    }
  }
}

/** A body without a declared length, read up to `max` bytes. */
async function readCapped(request: Request, max: number): Promise<ArrayBuffer> {
  const reader = request.body!.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      throw bodyTooLarge(max)
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.byteLength
  }
  return bytes.buffer
}

/**
 * Applies a surface's body policy before any parser sees the body: the media type must be one
 * it accepts, the size is capped, and (for 'must-parse') the body's shape is checked. A declared
 * length over the cap is refused unread; a body without one is read up to the cap. A body that
 * was read goes on in a new Request carrying the same state (and, for JSON, the parsed value).
 */
export async function limitBody(
  request: Request,
  policy: BodyPolicy,
  defaultMax: number,
  state: RequestState,
): Promise<Request> {
  if (!BODY_METHODS.has(request.method) || !request.body) return request
  const max = policy.maxBytes ?? defaultMax
  const declared = request.headers.get('content-length')
  if (policy.accept && declared !== '0' && !policy.accept.includes(mediaType(request))) {
    throw unsupportedContentType(policy.accept)
  }
  if (declared !== null && Number(declared) > max) throw bodyTooLarge(max)
  const kind = policy.json === 'must-parse' ? bodyKind(request) : null
  if (declared !== null && (kind === null || Number(declared) === 0)) return request
  // A declared length is the body's length (the HTTP server holds it to that).
  const bytes = declared !== null ? await request.arrayBuffer() : await readCapped(request, max)
  // Text bodies go on as the string (a Request copies bytes, but keeps a string as it is).
  let body: string | ArrayBuffer = bytes
  if (kind === 'json' || kind === 'form') {
    body = new TextDecoder().decode(bytes)
    if (kind === 'json') state.json = parseJson(body, policy)
    else checkForm(body, policy)
  } else if (kind === 'multipart') {
    await checkMultipart(bytes, request.headers.get('content-type') ?? '', policy)
  }
  const copy = new Request(request.url, { method: request.method, headers: request.headers, body })
  setRequestState(copy, state)
  return copy
}

const OVERRIDABLE = new Set(['PATCH', 'PUT', 'DELETE'])

/**
 * clerk-js sends only GET and POST (no preflight, no Safari cookie trouble) and names the real
 * verb in `?_method=`. Elysia routes on the immutable request.method, so a new Request is built.
 */
export function rewriteMethod(
  request: Request,
  url: URL,
  state: RequestState,
  clientParams: readonly string[] = [],
): Request {
  if (url.search === '') return request
  const override = request.method === 'POST' ? url.searchParams.get('_method')?.toUpperCase() : undefined
  const rewrite = !!override && OVERRIDABLE.has(override)
  const meta = clientParams.filter((p) => url.searchParams.has(p))
  if (!rewrite && !meta.length) return request
  const target = new URL(url)
  // What an SDK says about itself (its version, the session it acts for) is kept aside for the
  // edge and the actor; the routes' query schemas only see the request's own parameters.
  state.clientParams = {}
  for (const p of meta) {
    state.clientParams[p] = target.searchParams.get(p)!
    target.searchParams.delete(p)
  }
  if (rewrite) target.searchParams.delete('_method')
  const copy = new Request(target.href, {
    method: rewrite ? override : request.method,
    headers: request.headers,
    body: request.body,
    duplex: 'half',
  } as RequestInit)
  if (rewrite) state.method = override
  setRequestState(copy, state)
  return copy
}
