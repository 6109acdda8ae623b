import { afterAll, describe, expect, it } from 'bun:test'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { createUser, emailOf, expectError, ok, PASSWORD, patchInstance, row } from './support'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh(opts: Parameters<typeof createHarness>[0] = {}) {
  const h = await createHarness(opts)
  open.push(h)
  return h
}
const count = (h: Harness, table: string) => row<{ n: number }>(h, `SELECT count(*) AS n FROM ${table}`).n

describe('per-IP rate limits', () => {
  it('the 6th sign-in creation within 10 s is 429 with Retry-After and the error envelope', async () => {
    const h = await fresh({ rateLimits: true })
    const user = await createUser(h)
    const b = browser(h)
    for (let i = 0; i < 5; i++) {
      const r = await b.json('POST', '/v1/client/sign-ins', {
        identifier: i % 2 ? emailOf(user) : 'nobody@example.com',
      })
      expect([200, 422]).toContain(r.status)
    }
    const before = count(h, 'sign_ins')
    const limited = await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) })
    expectError(limited, 429, 'too_many_requests')
    const retry = Number(limited.res.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(10)
    expect(count(h, 'sign_ins')).toBe(before)

    // other routes and other buckets are not limited by it
    ok(await b.json('GET', '/v1/client'))
    ok(await b.json('POST', '/v1/client/sign-ups', { email_address: 'rl+authn_test@example.com' }))
    // another IP has its own budget
    const res = await h.rt.server.handle(
      new Request(`https://${h.env.host}/v1/client/sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identifier: emailOf(user) }),
      }),
      '10.9.8.7',
    )
    expect(res.status).toBe(200)
  })

  it('challenge answers: the 4th within 10 s is 429', async () => {
    const h = await fresh({ rateLimits: true })
    const user = await createUser(h)
    const b = browser(h)
    const sia = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) })).response
    for (let i = 0; i < 3; i++) {
      expectError(
        await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/password/answer`, {
          password: `wrong ${i} wrong`,
        }),
        422,
        'form_password_incorrect',
      )
    }
    const limited = await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/password/answer`, {
      password: PASSWORD,
    })
    expectError(limited, 429, 'too_many_requests')
    expect(limited.res.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_first_factor',
    )
  })

  it('a trailing slash does not get around the limits (same route, same budget)', async () => {
    const h = await fresh({ rateLimits: true })
    const user = await createUser(h)
    const b = browser(h)
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) {
      const path = i % 2 ? '/v1/client/sign-ins/' : '/v1/client/sign-ins'
      statuses.push((await b.json('POST', path, { identifier: 'nobody@example.com' })).status)
    }

    const created = await h.rt.server.handle(
      new Request(`https://${h.env.host}/v1/client/sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identifier: emailOf(user) }),
      }),
      '10.1.1.1',
    )
    const sia = ((await created.json()) as any).response
    const cookie = created.headers.get('set-cookie')!.match(/__authn_client=([^;]*)/)![1]
    const answers: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await h.rt.server.handle(
        new Request(`https://${h.env.host}/v1/client/sign-ins/${sia.id}/challenges/password/answer/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: `__authn_client=${cookie}` },
          body: JSON.stringify({ password: `guess ${i} guess` }),
        }),
        '10.1.1.1',
      )
      answers.push(res.status)
    }
    expect({
      creations: statuses.filter((s) => s === 429).length,
      answers: answers.filter((s) => s === 429).length,
    }).toEqual({
      creations: 3,
      answers: 3,
    })
  })

  it('sign-up creation is limited too', async () => {
    const h = await fresh({ rateLimits: true })
    const b = browser(h)
    for (let i = 0; i < 5; i++)
      ok(await b.json('POST', '/v1/client/sign-ups', { email_address: `s${i}+authn_test@example.com` }))
    expectError(
      await b.json('POST', '/v1/client/sign-ups', { email_address: 's9+authn_test@example.com' }),
      429,
      'too_many_requests',
    )
  })
})

describe('CORS and the origin check', () => {
  it('an allowed origin gets CORS headers, on errors too (development: localhost)', async () => {
    const h = await fresh()
    const b = browser(h, h.env, 'http://localhost:5173')
    const got = await b.json('GET', '/v1/client')
    expect(got.res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(got.res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(got.res.headers.get('vary')).toContain('Origin')
    const failed = await b.json('POST', '/v1/client/sign-ins', { identifier: 'nobody@example.com' })
    expectError(failed, 422, 'form_identifier_not_found')
    expect(failed.res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(failed.res.headers.get('access-control-expose-headers')).toContain('retry-after')
  })

  it('production: a mutation from an origin not in allowed_origins is 403 origin_invalid and changes nothing', async () => {
    const h = await fresh({ envs: [{ type: 'production', host: `clerk.prod${process.pid}.test` }] })
    await patchInstance(h, { allowed_origins: ['https://app.prod.test'] })
    const user = await createUser(h)

    const evil = browser(h, h.env, 'https://evil.example.com')
    const refused = await evil.json('POST', '/v1/client/sign-ins', {
      identifier: emailOf(user),
      password: PASSWORD,
      strategy: 'password',
    })
    expectError(refused, 403, 'origin_invalid')
    expect(refused.res.headers.get('access-control-allow-origin')).toBeNull()
    expect(refused.res.headers.get('set-cookie')).toBeNull()
    expect(count(h, 'clients')).toBe(0)
    expect(count(h, 'sessions')).toBe(0)
    expectError(await evil.json('POST', '/v1/client'), 403, 'origin_invalid')
    expectError(
      await evil.json('POST', '/v1/client/sign-ups', { email_address: 'x@example.com' }),
      403,
      'origin_invalid',
    )
    // dev-only conveniences do not apply in production
    expectError(
      await browser(h, h.env, 'http://localhost:3000').json('POST', '/v1/client'),
      403,
      'origin_invalid',
    )
    // a safe read is answered, without CORS headers
    const read = await evil.json('GET', '/v1/client')
    expect(read.status).toBe(200)
    expect(read.res.headers.get('access-control-allow-origin')).toBeNull()

    const app = browser(h, h.env, 'https://app.prod.test')
    const done = await app.json('POST', '/v1/client/sign-ins', {
      identifier: emailOf(user),
      password: PASSWORD,
      strategy: 'password',
    })
    expect(ok(done).response.status).toBe('complete')
    expect(done.res.headers.get('access-control-allow-origin')).toBe('https://app.prod.test')
    // the frontend host itself is always allowed
    ok(await browser(h, h.env, `https://${h.env.host}`).json('POST', '/v1/client'))
  })

  it('OPTIONS preflight: allowed origins get the CORS answer, others do not', async () => {
    const h = await fresh({ envs: [{ type: 'production', host: `clerk.pre${process.pid}.test` }] })
    await patchInstance(h, { allowed_origins: ['https://app.prod.test'] })
    const preflight = (origin: string) =>
      h.request(`https://${h.env.host}/v1/client/sign-ins`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      })
    const okRes = await preflight('https://app.prod.test')
    expect(okRes.status).toBe(204)
    expect(okRes.headers.get('access-control-allow-origin')).toBe('https://app.prod.test')
    expect(okRes.headers.get('access-control-allow-credentials')).toBe('true')
    expect(okRes.headers.get('access-control-allow-methods')).toContain('POST')
    expect(okRes.headers.get('access-control-allow-methods')).toContain('PATCH')
    expect(okRes.headers.get('access-control-allow-headers')).toContain('content-type')
    const no = await preflight('https://evil.example.com')
    expect(no.status).toBeLessThan(500)
    expect(no.headers.get('access-control-allow-origin')).toBeNull()
  })
})
