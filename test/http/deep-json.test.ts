import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { MAX_VALIDATION_ITEMS } from '../../src/http/shared/presenter'
import { defaultSurfaces, pickSurface } from '../../src/http/surfaces'
import { BODY_MAX_DEPTH, BODY_MAX_VALUES, FORM_MAX_FIELDS } from '../../src/lib/json-limits'
import { expectError, ok, row } from '../flows/support'
import { body, createHarness, type Harness } from '../helpers/harness'

// Bodies nested or spread past the dispatcher's bounds are refused at the edge with a 400 in the
// envelope, before any parser, validator or walker behind it sees them (they used to cost seconds
// of event-loop time in validation and end in a 500 from a stack overflow).

let h: Harness
beforeAll(async () => {
  h = await createHarness()
  ok(await reply(h.bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })))
})
afterAll(() => h.close())

const JSON_TYPE = { 'content-type': 'application/json' }
const SIGN_UP = '/v1/client/sign-ups/sua_01HZZZZZZZZZZZZZZZZZZZZZZZ'
const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
/** `{"name": …, "public_metadata": <value>}` for POST /v1/organizations. */
const orgWith = (metadata: string) => `{"name":"Acme","public_metadata":${metadata}}`

async function reply(res: Promise<Response> | Response) {
  const r = await res
  const text = await r.text()
  let parsed: any
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: r.status, body: parsed, res: r }
}

const tooComplex = (r: Awaited<ReturnType<typeof reply>>) => expectError(r, 400, 'request_body_too_complex')

describe('deep JSON is refused at the edge', () => {
  const bodies: Array<[string, string]> = [
    ['nested arrays, depth 20k (the 40 KB body)', arrays(20_000)],
    ['nested arrays, depth 100k', arrays(100_000)],
    ['nested objects, depth 20k', objects(20_000)],
    ['nested objects, depth 100k', objects(100_000)],
    ['metadata nested 100k deep', orgWith(arrays(100_000))],
    ['one level past the bound', orgWith(arrays(BODY_MAX_DEPTH))],
  ]
  for (const [name, text] of bodies) {
    it(`${name}: 400 on POST /v1/organizations (BAPI), PATCH /v1/client/sign-ups/{id} and POST /v1/client/sign-ins (FAPI, no cookie)`, async () => {
      tooComplex(await reply(h.bapi('POST', '/v1/organizations', text, { headers: JSON_TYPE })))
      tooComplex(await reply(h.fapi('PATCH', SIGN_UP, text, { headers: JSON_TYPE })))
      tooComplex(await reply(h.fapi('POST', '/v1/client/sign-ins', text, { headers: JSON_TYPE })))
      tooComplex(await reply(h.fapi('POST', `${SIGN_UP}?_method=PATCH`, text, { headers: JSON_TYPE })))
    })
  }

  it('says which bound was passed, and changes nothing', async () => {
    const r = await reply(h.bapi('POST', '/v1/organizations', arrays(40_000), { headers: JSON_TYPE }))
    tooComplex(r)
    expect(r.body.errors[0].long_message).toBe(
      `The JSON body nests arrays and objects deeper than ${BODY_MAX_DEPTH} levels.`,
    )
    expect(r.res.headers.get('x-trace-id')).toBe(r.body.trace_id)
    const list = ok(await reply(h.bapi('GET', '/v1/organizations')))
    expect(list.data).toEqual([])
    expect(row<{ n: number }>(h, 'SELECT count(*) AS n FROM sign_ups').n).toBe(0)
  })

  it('is refused before routing: an unknown route answers 400, not 404', async () => {
    tooComplex(await reply(h.bapi('POST', '/v1/no-such-route', arrays(20_000), { headers: JSON_TYPE })))
    tooComplex(await reply(h.fapi('POST', '/v1/no-such-route', arrays(20_000), { headers: JSON_TYPE })))
    // Any JSON media type, declared or streamed.
    tooComplex(
      await reply(
        h.fapi('PATCH', SIGN_UP, arrays(20_000), { headers: { 'content-type': 'application/vnd.api+json' } }),
      ),
    )
    const streamed = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(arrays(20_000)))
        c.close()
      },
    })
    tooComplex(
      await reply(
        h.request(`https://${h.env.host}${SIGN_UP}`, {
          method: 'PATCH',
          headers: JSON_TYPE,
          body: streamed,
          duplex: 'half',
        } as RequestInit),
      ),
    )
  })

  it('more values than the bound is refused too, however flat', async () => {
    const flat = `[${Array(BODY_MAX_VALUES).fill('0').join(',')}]` // the root and its items: one too many
    const r = await reply(h.bapi('POST', '/v1/organizations', flat, { headers: JSON_TYPE }))
    tooComplex(r)
    expect(r.body.errors[0].long_message).toBe(`The JSON body holds more than ${BODY_MAX_VALUES} values.`)
    const keys = `{${Array.from({ length: BODY_MAX_VALUES }, (_, i) => `"k${i}":1`).join(',')}}`
    tooComplex(await reply(h.fapi('PATCH', SIGN_UP, keys, { headers: JSON_TYPE })))
  })

  it('a body at the bounds goes on to the route, whose own bounds then apply', async () => {
    // 64 levels in all: the body, public_metadata, and 62 levels in it, past metadata's own bound
    // (test/domain/deep-documents.test.ts): the route's 422, not the edge's 400.
    const deep = orgWith(`{"a":${arrays(BODY_MAX_DEPTH - 2)}}`)
    const r = await reply(h.bapi('POST', '/v1/organizations', deep, { headers: JSON_TYPE }))
    expectError(r, 422, 'form_param_format_invalid', 'public_metadata')
    expect(r.body.errors[0].long_message).toContain('levels')
    const flat = `[${Array(BODY_MAX_VALUES - 1)
      .fill('0')
      .join(',')}]`
    expect((await reply(h.bapi('POST', '/v1/organizations', flat, { headers: JSON_TYPE }))).status).toBe(422)
    const org = ok(
      await reply(
        h.bapi('POST', '/v1/organizations', orgWith(`{"a":${arrays(20)}}`), { headers: JSON_TYPE }),
      ),
    )
    expect(org.public_metadata.a).toHaveLength(1)
  })
})

const SURFACES = defaultSurfaces()

describe('deep JSON on every route that takes a JSON body', () => {
  it('every BAPI and FAPI route answers 400 request_body_too_complex, never 5xx', async () => {
    const checked: string[] = []
    for (const surface of ['bapi', 'fapi'] as const) {
      const doc = await body(await h.request(`https://${h.env.host}/openapi/${surface}.json`))
      for (const [path, ops] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(ops)) {
          if (!op.requestBody?.content?.['application/json']) continue
          const concrete = path.replace(/\{\w+\}/g, 'x_01HZZZZZZZZZZZZZZZZZZZZZZZ')
          // The Frontend API document also lists the other surfaces of a frontend host (OAuth,
          // SCIM, the browser legs of SSO), each with its own body policy and error format.
          if (
            surface === 'fapi' &&
            pickSurface(SURFACES, concrete, method.toUpperCase(), null)?.name !== 'fapi'
          )
            continue
          const send = surface === 'bapi' ? h.bapi : h.fapi
          const r = await reply(send(method.toUpperCase(), concrete, arrays(20_000), { headers: JSON_TYPE }))
          expect(`${method.toUpperCase()} ${path}: ${r.status} ${r.body?.errors?.[0]?.code}`).toBe(
            `${method.toUpperCase()} ${path}: 400 request_body_too_complex`,
          )
          checked.push(`${method.toUpperCase()} ${path}`)
        }
      }
    }
    expect(checked).toContain('POST /v1/organizations')
    expect(checked).toContain('PATCH /v1/client/sign-ups/{id}')
    expect(checked.length).toBeGreaterThan(40)
  })
})

describe('form bodies are bounded too', () => {
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
  const multipart = (fields: Array<[string, string]>) => {
    const form = new FormData()
    for (const [k, v] of fields) form.append(k, v)
    return h.request(`https://${h.env.host}/v1/client/sign-ups`, { method: 'POST', body: form })
  }

  it('a URL-encoded body with more fields than the bound is a 400', async () => {
    const many = Array.from({ length: FORM_MAX_FIELDS + 1 }, (_, i) => `f${i}=x`).join('&')
    const r = await reply(h.fapi('PATCH', SIGN_UP, many, { headers: FORM }))
    tooComplex(r)
    expect(r.body.errors[0].long_message).toBe(`The form body has more than ${FORM_MAX_FIELDS} fields.`)
    // At the bound it reaches the route, which names a few of the unknown fields.
    const bound = Array.from({ length: FORM_MAX_FIELDS }, (_, i) => `f${i}=x`).join('&')
    expectError(await reply(h.fapi('PATCH', SIGN_UP, bound, { headers: FORM })), 422, 'form_param_unknown')
  })

  it('multipart: field paths, array indexes and JSON values are bounded like a JSON body', async () => {
    // Elysia would build `a[99999999]` into an array of a hundred million holes (a 500 after
    // ~40 s), `a.a.a…` into nested objects, and parse a value starting with [ as JSON.
    tooComplex(await reply(multipart([['unsafe_metadata[99999999]', 'x']])))
    tooComplex(await reply(multipart([[`${'a.'.repeat(BODY_MAX_DEPTH)}b`, 'x']])))
    tooComplex(await reply(multipart([['unsafe_metadata', arrays(20_000)]])))
    tooComplex(await reply(multipart(Array.from({ length: FORM_MAX_FIELDS + 1 }, (_, i) => [`f${i}`, 'x']))))
    // Within the bounds it reaches the route.
    const r = await reply(multipart([['unsafe_metadata', '{"theme":"dark"}']]))
    expect(r.status).toBe(200)
    expect(r.body.response.unsafe_metadata).toEqual({ theme: 'dark' })
  })
})

describe('validation errors', () => {
  it('a body with very many wrong parameters answers 422 naming only the first few', async () => {
    const wrong = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknown_${i}`, i]))
    const r = await reply(h.bapi('POST', '/v1/organizations', wrong))
    expectError(r, 422, 'form_param_missing', 'name')
    expect(r.body.errors.length).toBe(MAX_VALIDATION_ITEMS)
    expect(r.body.errors.slice(1).every((e: any) => e.code === 'form_param_unknown')).toBe(true)
    const fapi = await reply(h.fapi('PATCH', SIGN_UP, wrong))
    expectError(fapi, 422, 'form_param_unknown')
    expect(fapi.body.errors.length).toBe(MAX_VALIDATION_ITEMS)
  })
})
