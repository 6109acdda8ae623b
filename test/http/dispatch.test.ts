import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
})
afterAll(() => h.close())

describe('JWKS revalidation', () => {
  it('carries a strong ETag and answers If-None-Match with an empty 304 and the same caching headers', async () => {
    const url = `https://${h.env.host}/.well-known/jwks.json`
    const first = await h.request(url)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    for (const held of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await h.request(url, { headers: { 'if-none-match': held } })
      expect(again.status).toBe(304)
      expect(await again.text()).toBe('')
      expect(again.headers.get('etag')).toBe(etag)
      expect(again.headers.get('cache-control')).toBe(first.headers.get('cache-control'))
    }
    const stale = await h.request(url, { headers: { 'if-none-match': '"something-else"' } })
    expect(stale.status).toBe(200)
    expect(await stale.json()).toEqual(await first.json())
    const bapi = await h.bapi('GET', '/v1/jwks')
    expect(bapi.headers.get('etag')).toBe(etag)
  })
})

describe('dispatcher', () => {
  it('answers an unknown route under /v1 with route_not_found and a trace id', async () => {
    const res = await h.bapi('GET', '/v1/nope')
    expect(res.status).toBe(404)
    const b = await body(res)
    expect(b.errors[0].code).toBe('route_not_found')
    expect(b.trace_id).toMatch(/^[a-f0-9]{32}$/)
    expect(res.headers.get('x-trace-id')).toBe(b.trace_id)
    expect(b.clerk_trace_id).toBe(b.trace_id)
  })

  it('types JSON answers exactly application/json (no charset), errors included', async () => {
    for (const res of [
      await h.bapi('GET', '/v1/users'),
      await h.bapi('GET', '/v1/nope'),
      await h.bapi('POST', '/v1/users', { nope: 1 }),
      await h.fapi('GET', '/v1/environment'),
      await h.request('https://api.authn.test/v1/users'),
    ]) {
      expect(res.headers.get('content-type')).toBe('application/json')
    }
  })

  it('refuses a missing, malformed or unknown secret key with 401 authentication_invalid', async () => {
    for (const authorization of [
      undefined,
      'Bearer nope',
      'Bearer sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'Basic abc',
    ]) {
      const res = await h.request('https://api.authn.test/v1/users', {
        headers: authorization ? { authorization } : {},
      })
      expect(res.status).toBe(401)
      expect((await body(res)).errors[0].code).toBe('authentication_invalid')
    }
  })

  it('keeps a trace id handed in by a proxy', async () => {
    const res = await h.bapi('GET', '/v1/users', undefined, {
      headers: { 'x-request-id': 'proxy-trace-123' },
    })
    expect(res.headers.get('x-trace-id')).toBe('proxy-trace-123')
  })

  it('answers 404 environment_not_found for an unknown frontend host', async () => {
    const res = await h.request('https://nobody.example.test/.well-known/jwks.json')
    expect(res.status).toBe(404)
    expect((await body(res)).errors[0].code).toBe('environment_not_found')
  })

  it('answers malformed JSON with 400 and changes nothing', async () => {
    const res = await h.bapi('POST', '/v1/users', '{"email_address": [', {
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(400)
    expect((await body(res)).errors[0].code).toBe('malformed_request')
    const count = await body(await h.bapi('GET', '/v1/users/count'))
    expect(count.total_count).toBe(0)
  })

  it('answers wrong types with 422 naming the parameter and without schema internals', async () => {
    const res = await h.bapi('POST', '/v1/users', { email_address: 'not-an-array', first_name: 12 })
    expect(res.status).toBe(422)
    const b = await body(res)
    const params = b.errors.map((e: any) => e.meta.param_name).sort()
    expect(params).toEqual(['email_address', 'first_name'])
    const text = JSON.stringify(b)
    expect(text).not.toContain('"type":')
    expect(text).not.toContain('schema')
    expect(text).not.toContain('not-an-array')
  })

  it('refuses unknown body parameters', async () => {
    const res = await h.bapi('POST', '/v1/users', {
      email_address: ['x@example.com'],
      password: 'correct horse battery',
      admin: true,
    })
    expect(res.status).toBe(422)
    expect((await body(res)).errors[0].code).toBe('form_param_unknown')
  })

  it('caps body size with 413 in the envelope, declared or streamed', async () => {
    const big = JSON.stringify({ first_name: 'x'.repeat(2 * 1024 * 1024) })
    const declared = await h.bapi('POST', '/v1/users', big, {
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
    })
    expect(declared.status).toBe(413)
    expect((await body(declared)).errors[0].code).toBe('request_body_too_large')
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big))
        c.close()
      },
    })
    const streamed = await h.request('https://api.authn.test/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${h.env.secretKey}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(streamed.status).toBe(413)
  })

  it("never lets one env's key reach another env's data", async () => {
    const [a, b] = h.envs
    const created = await body(
      await h.bapi(
        'POST',
        '/v1/users',
        { email_address: ['iso@example.com'], password: 'correct horse battery' },
        { env: a },
      ),
    )
    expect(created.id).toMatch(/^user_/)
    expect((await h.bapi('GET', `/v1/users/${created.id}`, undefined, { env: a })).status).toBe(200)
    const cross = await h.bapi('GET', `/v1/users/${created.id}`, undefined, { env: b })
    expect(cross.status).toBe(404)
    expect((await body(cross)).errors[0].code).toBe('resource_not_found')
    const list = await body(await h.bapi('GET', '/v1/users', undefined, { env: b }))
    expect(list.data).toEqual([])
  })

  it('serves OpenAPI documents and a rendered reference page on any host', async () => {
    const bapi = await body(await h.request('http://localhost:3000/openapi/bapi.json'))
    expect(bapi.openapi).toBe('3.1.0')
    expect(Object.keys(bapi.paths)).toContain('/v1/users/{id}')
    expect(
      bapi.paths['/v1/users'].post.requestBody.content['application/json'].schema.properties.email_address
        .type,
    ).toBe('array')
    // The seed's paths are listed; Clerk's spellings are marked on the route they reach.
    expect(Object.keys(bapi.paths).filter((p) => p.includes('_templates') || p.includes('verify_'))).toEqual(
      [],
    )
    expect(bapi.paths['/v1/jwt-templates/{id}'].get['x-aliases']).toEqual(['/v1/jwt_templates/{id}'])
    expect(bapi.paths['/v1/users/{id}/verify-password'].post['x-aliases']).toEqual([
      '/v1/users/{id}/verify_password',
    ])
    expect(bapi.paths['/v1/organizations/{id}/invitations'].get['x-aliases']).toEqual([
      '/v1/organizations/{id}/invitations/pending (= ?status=pending)',
    ])
    expect(bapi.paths['/v1/organizations/{id}/invitations'].post['x-aliases']).toBeUndefined()
    const fapi = await body(await h.request('http://localhost:3000/openapi/fapi.json'))
    expect(Object.keys(fapi.paths)).toContain('/.well-known/jwks.json')
    const page = await h.request('http://localhost:3000/docs')
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('/openapi/bapi.json')
    expect(html).toContain('/openapi/fapi.json')
  })
})
