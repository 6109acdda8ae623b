import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, { type: 'production', host: `clerk.prod${process.pid}.test` }] })
})
afterAll(() => h.close())

const prod = () => h.envs[1]!
// Nothing below emits an event these endpoints would receive.
const QUIET = { event_types: ['nothing.happens'] }

describe('webhook endpoints', () => {
  it('shows the secret once, seals it at rest, lists, updates, disables and deletes', async () => {
    const res = await h.bapi('POST', '/v1/webhook-endpoints', {
      url: 'https://hooks.example.com/authn',
      description: 'billing',
      ...QUIET,
    })
    expect(res.status).toBe(200)
    const created = await body(res)
    expect(created).toEqual({
      object: 'webhook_endpoint',
      id: expect.stringMatching(/^whe_[0-9A-HJKMNP-TV-Z]{26}$/),
      url: 'https://hooks.example.com/authn',
      description: 'billing',
      event_types: ['nothing.happens'],
      disabled: false,
      disabled_reason: null,
      failing_since: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      created_at: h.clock.now(),
      updated_at: h.clock.now(),
    })
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32)
    const { secret, ...withoutSecret } = created

    expect(await body(await h.bapi('GET', `/v1/webhook-endpoints/${created.id}`))).toEqual(withoutSecret)
    const list = await body(await h.bapi('GET', '/v1/webhook-endpoints?include_total_count=true'))
    expect(list.data).toContainEqual(withoutSecret)
    expect(JSON.stringify(list)).not.toContain(secret)
    const stored = h.ctx((ctx) =>
      ctx.client.query('SELECT secret FROM webhook_endpoints WHERE id = ?').get(created.id),
    ) as { secret: string }
    expect(stored.secret).toStartWith('v1.')
    expect(stored.secret).not.toContain(secret.slice(6))

    h.clock.advance(1000)
    const updated = await body(
      await h.bapi('PATCH', `/v1/webhook-endpoints/${created.id}`, {
        url: 'https://hooks.example.com/v2',
        description: null,
        event_types: ['user.created', 'user.deleted'],
        disabled: true,
      }),
    )
    expect(updated).toMatchObject({
      url: 'https://hooks.example.com/v2',
      description: null,
      event_types: ['user.created', 'user.deleted'],
      disabled: true,
      disabled_reason: 'manual',
      updated_at: h.clock.now(),
    })
    expect(updated.secret).toBeUndefined()
    const enabled = await body(
      await h.bapi('PATCH', `/v1/webhook-endpoints/${created.id}`, { disabled: false, ...QUIET }),
    )
    expect(enabled).toMatchObject({ disabled: false, disabled_reason: null })

    expect(await body(await h.bapi('DELETE', `/v1/webhook-endpoints/${created.id}`))).toEqual({
      object: 'webhook_endpoint',
      id: created.id,
      deleted: true,
    })
    expect((await h.bapi('GET', `/v1/webhook-endpoints/${created.id}`)).status).toBe(404)
  })

  it('pages newest first with a cursor', async () => {
    for (let i = 0; i < 3; i++)
      await h.bapi('POST', '/v1/webhook-endpoints', { url: `https://p${i}.example.com/`, ...QUIET })
    const all = (await body(await h.bapi('GET', '/v1/webhook-endpoints?limit=500'))).data.map(
      (e: any) => e.id,
    )
    const first = await body(await h.bapi('GET', '/v1/webhook-endpoints?limit=2'))
    const second = await body(
      await h.bapi('GET', `/v1/webhook-endpoints?limit=500&cursor=${first.meta.next_cursor}`),
    )
    expect([...first.data, ...second.data].map((e: any) => e.id)).toEqual(all)
    expect(second.meta.next_cursor).toBeNull()
    expect([...all].sort().reverse()).toEqual(all)
  })

  it('rotates the secret: a new one, shown once', async () => {
    const created = await body(
      await h.bapi('POST', '/v1/webhook-endpoints', { url: 'https://a.example.com/', ...QUIET }),
    )
    const rotated = await body(await h.bapi('POST', `/v1/webhook-endpoints/${created.id}/rotate-secret`))
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(created.secret)
    expect(rotated.id).toBe(created.id)
    expect((await body(await h.bapi('GET', `/v1/webhook-endpoints/${created.id}`))).secret).toBeUndefined()
  })

  it('validates the URL and the event types', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://example.com/' }, 'url'],
      [{ url: 'https://user:pass@example.com/' }, 'url'],
      [{ url: 'https://example.com/', event_types: ['user created'] }, 'event_types'],
      [{ url: 'https://example.com/', secret: 'whsec_mine' }, 'secret'],
    ]
    for (const [input, param] of cases) {
      const res = await h.bapi('POST', '/v1/webhook-endpoints', input)
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0].meta.param_name).toBe(param)
    }
  })

  it('refuses private and loopback hosts in a production env, at create and update', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://10.0.0.5/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/',
      'http://0x7f.1/',
      'http://localhost:3000/hook',
      'http://hooks.localhost/',
    ]) {
      const res = await h.bapi('POST', '/v1/webhook-endpoints', { url }, { env: prod() })
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0]).toMatchObject({
        code: 'form_param_value_invalid',
        meta: { param_name: 'url' },
        long_message: expect.stringContaining('private or loopback'),
      })
    }
    const ok = await body(
      await h.bapi(
        'POST',
        '/v1/webhook-endpoints',
        { url: 'https://hooks.example.com/', ...QUIET },
        { env: prod() },
      ),
    )
    const upd = await h.bapi(
      'PATCH',
      `/v1/webhook-endpoints/${ok.id}`,
      { url: 'http://192.168.1.1/' },
      { env: prod() },
    )
    expect(upd.status).toBe(422)
    // Development envs may call loopback (where local receivers run).
    const dev = await h.bapi('POST', '/v1/webhook-endpoints', { url: 'http://127.0.0.1:8080/hook', ...QUIET })
    expect(dev.status).toBe(200)
  })

  it('404s unknown endpoints and deliveries, and keeps envs apart', async () => {
    const missing = 'whe_01J0000000000000000000000Z'
    for (const [method, path] of [
      ['GET', `/v1/webhook-endpoints/${missing}`],
      ['PATCH', `/v1/webhook-endpoints/${missing}`],
      ['DELETE', `/v1/webhook-endpoints/${missing}`],
      ['POST', `/v1/webhook-endpoints/${missing}/rotate-secret`],
      ['GET', `/v1/webhook-endpoints/${missing}/deliveries`],
      ['GET', '/v1/webhook-endpoints/nope'],
    ] as const) {
      const res = await h.bapi(method, path, method === 'PATCH' ? {} : undefined)
      expect(res.status).toBe(404)
      expect((await body(res)).errors[0].code).toBe('resource_not_found')
    }
    const mine = await body(
      await h.bapi('POST', '/v1/webhook-endpoints', { url: 'https://b.example.com/', ...QUIET }),
    )
    expect((await h.bapi('GET', `/v1/webhook-endpoints/${mine.id}`, undefined, { env: prod() })).status).toBe(
      404,
    )
    const replay = await h.bapi(
      'POST',
      `/v1/webhook-endpoints/${mine.id}/deliveries/whd_01J0000000000000000000000Z/replay`,
    )
    expect(replay.status).toBe(404)
  })
})
