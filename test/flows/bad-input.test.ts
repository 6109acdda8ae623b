import { afterAll, describe, expect, it } from 'bun:test'
import { defaultSurfaces, pickSurface } from '../../src/http/surfaces'
import { type Browser, browser } from '../helpers/browser'
import { body, createHarness } from '../helpers/harness'
import { createUser, emailOf, expectError, ok, PASSWORD, patchInstance, row, signedIn } from './support'

// Every FAPI route is read from the served OpenAPI document, so a new route is covered as it lands.
const h = await createHarness()
afterAll(() => h.close())
const doc = await body(await h.request(`https://${h.env.host}/openapi/fapi.json`))

interface Route {
  method: string
  path: string
  properties: Record<string, any>
}
const routes: Route[] = []
// The document also lists the frontend host's other surfaces (OAuth, SCIM, SSO's browser legs):
// only the Frontend API's own routes answer in its envelope.
const SURFACES = defaultSurfaces()
for (const [path, ops] of Object.entries<any>(doc.paths)) {
  if (!path.startsWith('/v1/')) continue
  for (const [method, op] of Object.entries<any>(ops)) {
    if (pickSurface(SURFACES, path, method.toUpperCase(), null)?.name !== 'fapi') continue
    const schema = op.requestBody?.content?.['application/json']?.schema
    if (schema) routes.push({ method: method.toUpperCase(), path, properties: schema.properties ?? {} })
  }
}
const concrete = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'cid' ? 'chl_01HZZZZZZZZZZZZZZZZZZZZZZZ' : 'x_01HZZZZZZZZZZZZZZZZZZZZZZZ',
  )

/** A value of the wrong JSON type for a property schema. */
function wrongValue(schema: any): unknown {
  const types = new Set<string>(
    [schema.type, ...(schema.anyOf ?? []).map((s: any) => s.type)].filter(Boolean),
  )
  if (types.has('string')) return 12345
  if (types.has('boolean')) return 'maybe'
  if (types.has('object')) return 'not an object'
  if (types.has('integer') || types.has('number')) return 'seven'
  return [[]]
}

let session: Browser
const signedInBrowser = async () => {
  session ??= (await signedIn(h)).b
  return session
}

describe('the route list', () => {
  it('covers the identity routes that take a body', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`)
    for (const expected of [
      'POST /v1/client/sign-ins',
      'POST /v1/client/sign-ups',
      'PATCH /v1/client/sign-ups/{id}',
      'POST /v1/client/sign-ins/{id}/challenges/{cid}/answer',
      'POST /v1/client/sign-ins/{id}/reset-password',
      'PATCH /v1/me',
      'POST /v1/me/change-password',
      'PATCH /v1/me/phone-numbers/{id}',
    ])
      expect(names).toContain(expected)
  })
})

describe('malformed JSON is 400 malformed_request on every FAPI route with a body', () => {
  for (const r of routes) {
    it(`${r.method} ${r.path}`, async () => {
      const b = await signedInBrowser()
      const res = await b.json(r.method, concrete(r.path), '{"oops": ', {
        'content-type': 'application/json',
      })
      expectError(res, 400, 'malformed_request')
    })
  }
})

describe('wrong types are 422 form_param_format_invalid naming the parameter', () => {
  for (const r of routes) {
    const props = Object.entries(r.properties)
    if (!props.length) continue
    it(`${r.method} ${r.path}`, async () => {
      const b = await signedInBrowser()
      for (const [name, schema] of props) {
        const res = await b.json(r.method, concrete(r.path), { [name]: wrongValue(schema) })
        expect(`${name}: ${res.status}`).toBe(`${name}: 422`)
        expect(res.body.errors.find((e: any) => e.meta?.param_name === name)?.code).toBe(
          'form_param_format_invalid',
        )
        expect(JSON.stringify(res.body)).not.toContain('"schema"')
      }
    })
  }
})

describe('other malformed requests', () => {
  it('non-object bodies, unknown params, oversized bodies, unknown routes', async () => {
    const b = browser(h)
    expectError(
      await b.json('POST', '/v1/client/sign-ins', '[1,2]', { 'content-type': 'application/json' }),
      422,
      'form_param_format_invalid',
      'body',
    )
    const unknown = await b.json('POST', '/v1/client/sign-ins', { identifier: 'x@example.com', nope: 1 })
    expectError(unknown, 422, 'form_param_unknown', 'nope')
    expect(unknown.body.errors[0].long_message).toBe('nope is not a valid parameter for this request.')
    // A query parameter the route does not take is named the same way.
    const query = await h.bapi('GET', '/v1/users?nope=1')
    expect(query.status).toBe(422)
    expect(((await query.json()) as { errors: unknown[] }).errors[0]).toMatchObject({
      code: 'form_param_unknown',
      long_message: 'nope is not a valid parameter for this request.',
      meta: { param_name: 'nope' },
    })
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: 'x'.repeat(321) }),
      422,
      'form_param_format_invalid',
      'identifier',
    )
    const big = await b.json(
      'POST',
      '/v1/client/sign-ups',
      JSON.stringify({ first_name: 'x'.repeat(2_000_000) }),
      {
        'content-type': 'application/json',
      },
    )
    expectError(big, 413, 'request_body_too_large')
    expectError(await b.json('POST', '/v1/client/sign-outs'), 404, 'route_not_found')
    expectError(await b.json('GET', '/v1/tickets/accept'), 422, 'form_param_missing', 'ticket')
    expect(row<{ n: number }>(h, 'SELECT count(*) AS n FROM sign_ups').n).toBe(0)
  })
})

describe('form bodies and _method tunnelling', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const encode = (o: Record<string, string>) => new URLSearchParams(o).toString()

  it('sign-up, PATCH through ?_method=PATCH, and a challenge answer, all form-encoded', async () => {
    const b = browser(h)
    const su = ok(
      await b.json(
        'POST',
        '/v1/client/sign-ups',
        encode({ email_address: 'form+authn_test@example.com' }),
        form,
      ),
    ).response
    expect(su.email_address).toBe('form+authn_test@example.com')
    const patched = ok(
      await b.json(
        'POST',
        `/v1/client/sign-ups/${su.id}?_method=PATCH`,
        encode({ password: PASSWORD, first_name: 'Form' }),
        form,
      ),
    ).response
    expect(patched).toMatchObject({
      id: su.id,
      first_name: 'Form',
      password_enabled: true,
      missing_fields: [],
    })
    const c = ok(
      await b.json(
        'POST',
        `/v1/client/sign-ups/${su.id}/challenges`,
        encode({ strategy: 'email_code' }),
        form,
      ),
    ).response
    const done = ok(
      await b.json(
        'POST',
        `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`,
        encode({ code: '424242' }),
        form,
      ),
    )
    expect(done.response.status).toBe('complete')
    // ?_method=DELETE on POST /v1/client signs out
    const out = ok(await b.json('POST', '/v1/client?_method=DELETE'))
    expect(out.response.sessions.map((s: any) => s.status)).toEqual(['ended'])
  })

  it('a one-shot password sign-in, form-encoded', async () => {
    const user = await createUser(h)
    const b = browser(h)
    const done = ok(
      await b.json(
        'POST',
        '/v1/client/sign-ins',
        encode({ identifier: emailOf(user), password: PASSWORD, strategy: 'password' }),
        form,
      ),
    )
    expect(done.response.status).toBe('complete')
  })

  it('booleans in form bodies ("true") are understood', async () => {
    await patchInstance(h, { identifiers: { phone_number: { enabled: true } } })
    const { b } = await signedIn(h)
    const p = ok(
      await b.json('POST', '/v1/me/phone-numbers', encode({ phone_number: '+15555550177' }), form),
    ).response
    const c = ok(
      await b.json(
        'POST',
        `/v1/me/phone-numbers/${p.id}/challenges`,
        encode({ strategy: 'phone_code' }),
        form,
      ),
    ).response
    ok(
      await b.json(
        'POST',
        `/v1/me/phone-numbers/${p.id}/challenges/${c.id}/answer`,
        encode({ code: '424242' }),
        form,
      ),
    )
    const reserved = ok(
      await b.json(
        'POST',
        `/v1/me/phone-numbers/${p.id}?_method=PATCH`,
        encode({ reserved_for_second_factor: 'true' }),
        form,
      ),
    ).response
    expect(reserved.reserved_for_second_factor).toBe(true)
  })
})
