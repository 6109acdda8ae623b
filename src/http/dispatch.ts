import { bodyTooLarge, malformedRequest, unsupportedContentType } from './shared/errors'
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
   * 'must-parse': a JSON body that does not parse is a 400 here, also on routes whose body is
   * optional. 'unchecked': the bytes go on as they came, for routes that read the raw body
   * (`parse: 'none'`: OAuth token requests, SAML responses, webhook signatures).
   */
  json: 'must-parse' | 'unchecked'
  /** Media types a body may have (415 otherwise); unset: any, the app's parser decides. */
  accept?: readonly string[]
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const isJson = (request: Request) =>
  request.headers.get('content-type')?.toLowerCase().includes('json') ?? false

/**
 * Routes whose body is optional would otherwise run as if no body came when the JSON is
 * broken; a malformed JSON body is a 400 everywhere.
 */
async function assertJsonParses(request: Request, state: RequestState): Promise<Request> {
  const text = await request.text()
  if (text.trim() !== '') {
    try {
      JSON.parse(text)
    } catch {
      throw malformedRequest()
    }
  }
  const copy = new Request(request.url, { method: request.method, headers: request.headers, body: text })
  setRequestState(copy, state)
  return copy
}

const mediaType = (request: Request) =>
  request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? ''

/**
 * Applies a surface's body policy before any parser sees the body: the media type must be one
 * it accepts, and the size is capped. A declared length over the cap is refused unread; a body
 * without one is read up to the cap and handed on as a buffer.
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
  const checkJson = policy.json === 'must-parse'
  if (declared !== null) {
    if (Number(declared) > max) throw bodyTooLarge(max)
    return checkJson && isJson(request) && Number(declared) > 0 ? assertJsonParses(request, state) : request
  }
  const reader = request.body.getReader()
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
  const copy = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: Buffer.concat(chunks),
  })
  setRequestState(copy, state)
  return checkJson && isJson(copy) ? assertJsonParses(copy, state) : copy
}

const OVERRIDABLE = new Set(['PATCH', 'PUT', 'DELETE'])

/**
 * clerk-js sends only GET and POST (no preflight, no Safari cookie trouble) and names the real
 * verb in `?_method=`. Elysia routes on the immutable request.method, so a new Request is built.
 */
export function rewriteMethod(request: Request, url: URL, state: RequestState): Request {
  if (request.method !== 'POST') return request
  const override = url.searchParams.get('_method')?.toUpperCase()
  if (!override || !OVERRIDABLE.has(override)) return request
  const target = new URL(url)
  target.searchParams.delete('_method')
  const copy = new Request(target.href, {
    method: override,
    headers: request.headers,
    body: request.body,
    duplex: 'half',
  } as RequestInit)
  state.method = override
  setRequestState(copy, state)
  return copy
}
