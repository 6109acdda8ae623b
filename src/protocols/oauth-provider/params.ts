import { invalidRequest } from './errors'

/** Request parameters with each name at most once (RFC 6749 §3.1: repeated ones are an error). */
export type Params = ReadonlyMap<string, string>

/** Parameters whose repetition is reported (the rest are read once, the first wins, or ignored). */
export function readParams(raw: URLSearchParams): { params: Params; repeated: string[] } {
  const params = new Map<string, string>()
  const repeated = new Set<string>()
  for (const [k, v] of raw) {
    if (params.has(k)) repeated.add(k)
    else params.set(k, v)
  }
  return { params, repeated: [...repeated] }
}

const FORM = 'application/x-www-form-urlencoded'

/** A form-encoded POST body (token, introspection, revocation): anything else is invalid_request. */
export async function readForm(request: Request): Promise<Params> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== FORM) throw invalidRequest(`The body must be ${FORM}.`)
  const { params, repeated } = readParams(new URLSearchParams(await request.text()))
  if (repeated.length) throw invalidRequest(`Parameters may not be repeated: ${repeated.join(', ')}.`)
  return params
}
