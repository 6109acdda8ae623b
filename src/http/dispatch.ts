import { AppError, internalError } from '../lib/errors'
import { bodyTooLarge, malformedRequest } from './shared/errors'
import { envelope } from './shared/presenter'
import { type RequestState, setRequestState } from './shared/request-state'

const TRACE_ID = /^[A-Za-z0-9._-]{8,64}$/

/** An upstream proxy's id is kept when it looks like one, so logs join up across hops. */
export function traceIdFor(request: Request): string {
  const inbound = request.headers.get('x-trace-id') ?? request.headers.get('x-request-id')
  return inbound && TRACE_ID.test(inbound) ? inbound : crypto.randomUUID().replaceAll('-', '')
}

export function errorResponse(err: unknown, state: RequestState): Response {
  if (err instanceof AppError) {
    return Response.json(envelope(err.items, state.traceId), { status: err.status, headers: err.headers })
  }
  state.log.error({ err, trace_id: state.traceId }, 'unhandled error')
  return Response.json(envelope([internalError()], state.traceId), { status: 500 })
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

/**
 * Caps the body before any parser sees it. A declared length over the cap is refused
 * unread; a body without one is read up to the cap and handed on as a buffer.
 */
export async function limitBody(request: Request, max: number, state: RequestState): Promise<Request> {
  if (!BODY_METHODS.has(request.method) || !request.body) return request
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > max) throw bodyTooLarge(max)
    return isJson(request) && Number(declared) > 0 ? assertJsonParses(request, state) : request
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
  return isJson(copy) ? assertJsonParses(copy, state) : copy
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
