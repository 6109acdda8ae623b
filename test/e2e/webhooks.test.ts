import { afterEach, describe, expect, it } from 'bun:test'
import { Webhook } from 'svix'
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from '../../src/domain/webhooks/worker'
import { body, createHarness, type Harness } from '../helpers/harness'

/**
 * Webhook delivery against real HTTP receivers on loopback, each delivery verified with the
 * `svix` package (the verifier Clerk's SDKs use) under both header names.
 */
interface Received {
  body: string
  headers: Record<string, string>
  status: number
}

function receiver(respond: (n: number) => Response | Promise<Response> = () => new Response('ok')) {
  const received: Received[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const text = await req.text()
      const res = await respond(received.length + 1)
      received.push({ body: text, headers: Object.fromEntries(req.headers), status: res.status })
      return res
    },
  })
  return { url: `http://127.0.0.1:${server.port}/hooks/authn`, received, stop: () => server.stop(true) }
}

/** Verifies with svix, once with only the svix-* headers and once with only webhook-* ones. */
function verify(secret: string, r: Received) {
  const pick = (prefix: string) =>
    Object.fromEntries(
      ['id', 'timestamp', 'signature'].map((k) => [`${prefix}-${k}`, r.headers[`${prefix}-${k}`]!]),
    )
  const viaSvix = new Webhook(secret).verify(r.body, pick('svix'))
  const viaStandard = new Webhook(secret).verify(r.body, pick('webhook'))
  expect(viaStandard).toEqual(viaSvix)
  return viaSvix as Record<string, any>
}

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function setup(opts: Parameters<typeof createHarness>[0] = {}) {
  const h = await createHarness(opts)
  cleanups.push(() => h.close())
  return h
}
function listen(respond?: Parameters<typeof receiver>[0]) {
  const r = receiver(respond)
  cleanups.push(r.stop)
  return r
}
async function endpoint(h: Harness, url: string, extra: Record<string, unknown> = {}) {
  const res = await h.bapi('POST', '/v1/webhook-endpoints', { url, ...extra })
  expect(res.status).toBe(200)
  return body(res)
}
let seq = 0
async function createUser(h: Harness) {
  const res = await h.bapi('POST', '/v1/users', {
    email_address: [`hook${++seq}@example.com`],
    password: 'correct horse battery',
  })
  expect(res.status).toBe(200)
  return body(res)
}
const deliveries = async (h: Harness, endpointId: string) =>
  (await body(await h.bapi('GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`))).data
const settle = (h: Harness) => h.settle()

describe('webhook delivery', () => {
  it('delivers an event right after the commit, signed the Standard Webhooks way', async () => {
    const h = await setup()
    const r = listen()
    const ep = await endpoint(h, r.url)
    const user = await createUser(h)
    await settle(h) // no tick: the commit kicked the worker

    expect(r.received).toHaveLength(1)
    const got = r.received[0]!
    const payload = verify(ep.secret, got)
    expect(payload).toEqual({
      type: 'user.created',
      object: 'event',
      data: user,
      timestamp: h.clock.now(),
      instance_id: h.env.id,
    })
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60)

    const [d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({
      object: 'webhook_delivery',
      id: got.headers['webhook-id'],
      endpoint_id: ep.id,
      event_type: 'user.created',
      status: 'succeeded',
      attempt_count: 1,
      next_attempt_at: null,
      succeeded_at: h.clock.now(),
    })
    expect(d.id).toMatch(/^whd_/)
    expect(d.attempts).toEqual([
      {
        object: 'webhook_attempt',
        id: expect.stringMatching(/^wha_/),
        url: r.url,
        status_code: 200,
        latency_ms: expect.any(Number),
        error: null,
        created_at: h.clock.now(),
      },
    ])
    const events = await body(await h.bapi('GET', '/v1/events?type=user.created'))
    expect(d.event_id).toBe(events.data[0].id)

    // A verifier holding another secret refuses it.
    const other = await endpoint(h, r.url, { event_types: ['nothing.happens'] })
    expect(() => verify(other.secret, got)).toThrow()
  })

  it('sends each endpoint only the event types it asked for', async () => {
    const h = await setup()
    const all = listen()
    const deletes = listen()
    await endpoint(h, all.url)
    await endpoint(h, deletes.url, { event_types: ['user.deleted'] })
    const user = await createUser(h)
    await h.bapi('POST', `/v1/users/${user.id}/ban`)
    await h.bapi('DELETE', `/v1/users/${user.id}`)
    await settle(h)
    const types = (r: typeof all) => r.received.map((x) => JSON.parse(x.body).type).sort()
    expect(types(all)).toEqual(['user.created', 'user.deleted', 'user.updated'])
    expect(types(deletes)).toEqual(['user.deleted'])
    expect(JSON.parse(deletes.received[0]!.body).data).toMatchObject({ id: user.id, deleted: true })
  })

  it('retries with backoff: a receiver failing twice gets the event accepted exactly once', async () => {
    const h = await setup()
    const r = listen((n) => new Response(n <= 2 ? 'not yet' : 'ok', { status: n <= 2 ? 500 : 204 }))
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    expect(r.received.map((x) => x.status)).toEqual([500])
    let [d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({ status: 'pending', attempt_count: 1, next_attempt_at: h.clock.now() + 5000 })
    expect(d.attempts[0]).toMatchObject({ status_code: 500, error: 'HTTP 500' })
    expect((await body(await h.bapi('GET', `/v1/webhook-endpoints/${ep.id}`))).failing_since).toBe(
      h.clock.now(),
    )

    await h.rt.scheduler.tick() // not due yet
    expect(r.received).toHaveLength(1)
    h.clock.advance(5000)
    await h.rt.scheduler.tick()
    expect(r.received.map((x) => x.status)).toEqual([500, 500])
    ;[d] = await deliveries(h, ep.id)
    expect(d.next_attempt_at).toBe(h.clock.now() + 5 * 60_000)

    h.clock.advance(5 * 60_000)
    await h.rt.scheduler.tick()
    h.clock.advance(24 * 3600_000)
    await h.rt.scheduler.tick()
    expect(r.received.map((x) => x.status)).toEqual([500, 500, 204])
    // The same message every time, each a valid signature.
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([d.id]))
    for (const x of r.received) verify(ep.secret, x)
    ;[d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({ status: 'succeeded', attempt_count: 3 })
    expect(d.attempts.map((a: any) => a.status_code)).toEqual([500, 500, 204])
    expect((await body(await h.bapi('GET', `/v1/webhook-endpoints/${ep.id}`))).failing_since).toBeNull()
  })

  it('gives up after the last attempt and counts redirects as failures', async () => {
    const h = await setup()
    const r = listen(() => new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:1/' } }))
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    for (const delay of RETRY_DELAYS_MS) {
      h.clock.advance(delay)
      await h.rt.scheduler.tick()
    }
    expect(r.received).toHaveLength(MAX_ATTEMPTS)
    const [d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({ status: 'failed', attempt_count: MAX_ATTEMPTS, next_attempt_at: null })
    expect(d.attempts.at(-1)).toMatchObject({ status_code: 302, error: 'HTTP 302' })
    h.clock.advance(48 * 3600_000)
    await h.rt.scheduler.tick()
    expect(r.received).toHaveLength(MAX_ATTEMPTS)
  })

  it('stops retrying when the receiver answers webhook-delivery: abort-message', async () => {
    const h = await setup()
    const r = listen(
      () => new Response('gone', { status: 410, headers: { 'webhook-delivery': 'abort-message' } }),
    )
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    h.clock.advance(RETRY_DELAYS_MS[0]! + 1)
    await h.rt.scheduler.tick()
    expect(r.received).toHaveLength(1)
    const [d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({ status: 'failed', attempt_count: 1, next_attempt_at: null })
  })

  it('survives a restart mid-retry, and takes over a claim left by a crashed process', async () => {
    const h = await setup()
    const r = listen((n) => new Response(null, { status: n === 1 ? 503 : 200 }))
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    expect(r.received).toHaveLength(1)

    await h.restart()
    h.clock.advance(5000)
    await h.rt.scheduler.tick()
    expect(r.received.map((x) => x.status)).toEqual([503, 200])
    expect((await deliveries(h, ep.id))[0].status).toBe('succeeded')

    // A second event; then we pretend a process claimed its delivery and died before recording.
    await createUser(h)
    await settle(h)
    const sent = r.received.length
    const [second] = await deliveries(h, ep.id)
    const claimedUntil = h.clock.now() + 60_000
    h.ctx((ctx) =>
      ctx.client
        .query("UPDATE webhook_deliveries SET status = 'sending', next_attempt_at = ? WHERE id = ?")
        .run(claimedUntil, second.id),
    )
    await h.restart()
    await h.rt.scheduler.tick()
    expect(r.received).toHaveLength(sent) // the claim still holds
    h.clock.set(claimedUntil)
    await h.rt.scheduler.tick()
    expect(r.received).toHaveLength(sent + 1)
    expect(r.received.at(-1)!.headers['webhook-id']).toBe(second.id)
    expect((await deliveries(h, ep.id))[0].status).toBe('succeeded')
  })

  it('never sends one delivery twice at once (the kick and a tick race)', async () => {
    const h = await setup()
    const arrived = Promise.withResolvers<void>()
    const answer = Promise.withResolvers<void>()
    cleanups.push(() => answer.resolve())
    let requests = 0
    const r = listen(async () => {
      // Holds the first request open; a second one (the bug) is answered at once.
      if (++requests === 1) {
        arrived.resolve()
        await answer.promise
      }
      return new Response('ok')
    })
    const ep = await endpoint(h, r.url)
    await createUser(h)
    // The commit kicked the worker; its request is now held open by the receiver.
    await arrived.promise
    // Ticks race it, also once its claim has expired on the (test) clock: the process knows
    // which deliveries it is sending.
    await Promise.all([h.rt.scheduler.tick(), h.rt.scheduler.tick()])
    h.clock.advance(h.rt.config.webhookTimeoutMs + 60_000)
    await Promise.all([h.rt.scheduler.tick(), h.rt.scheduler.tick()])
    expect(requests).toBe(1)
    answer.resolve()
    await settle(h)
    expect(requests).toBe(1)
    expect(r.received).toHaveLength(1)
    expect((await deliveries(h, ep.id))[0]).toMatchObject({ status: 'succeeded', attempt_count: 1 })
  })

  it('times out a slow receiver, and reads a large answer only up to the cap', async () => {
    const h = await setup({ config: { webhookTimeoutMs: 200 } })
    // Answers only once the test is over: long after the 200 ms timeout.
    const never = Promise.withResolvers<void>()
    cleanups.push(() => never.resolve())
    const slow = listen(async () => {
      await never.promise
      return new Response('late')
    })
    const big = listen(() => new Response('x'.repeat(4 * 1024 * 1024)))
    const slowEp = await endpoint(h, slow.url)
    const bigEp = await endpoint(h, big.url)
    await createUser(h)
    await settle(h)
    const [timedOut] = await deliveries(h, slowEp.id)
    expect(timedOut).toMatchObject({ status: 'pending', attempt_count: 1 })
    expect(timedOut.attempts[0]).toMatchObject({ status_code: null, error: 'timed out after 200 ms' })
    expect((await deliveries(h, bigEp.id))[0].status).toBe('succeeded')
  })

  it('records a refused private address as a failed attempt in a production env', async () => {
    const h = await setup({ envs: [{ type: 'production', host: `clerk.prod${process.pid}.test` }] })
    const r = listen()
    const ep = await endpoint(h, 'https://hooks.example.com/authn')
    // The name later points at this machine (here: the URL is swapped behind the API's back).
    const sneaky = r.url.replace('127.0.0.1', 'localhost')
    h.ctx((ctx) => ctx.client.query('UPDATE webhook_endpoints SET url = ? WHERE id = ?').run(sneaky, ep.id))
    await createUser(h)
    await settle(h)
    expect(r.received).toHaveLength(0)
    const [d] = await deliveries(h, ep.id)
    expect(d).toMatchObject({ status: 'pending', attempt_count: 1 })
    expect(d.attempts[0]).toMatchObject({ status_code: null, error: expect.stringContaining('refused') })
  })

  it('signs with the new secret only, once rotated', async () => {
    const h = await setup()
    const r = listen()
    const ep = await endpoint(h, r.url)
    const { secret } = await body(await h.bapi('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`))
    await createUser(h)
    await settle(h)
    verify(secret, r.received[0]!)
    expect(() => verify(ep.secret, r.received[0]!)).toThrow()
  })

  it('replays one delivery as the same message, with a fresh schedule', async () => {
    const h = await setup()
    const r = listen()
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    const [d] = await deliveries(h, ep.id)
    h.clock.advance(1000)
    const res = await h.bapi('POST', `/v1/webhook-endpoints/${ep.id}/deliveries/${d.id}/replay`)
    expect(res.status).toBe(200)
    expect(await body(res)).toMatchObject({
      id: d.id,
      status: 'pending',
      attempt_count: 0,
      next_attempt_at: h.clock.now(),
      succeeded_at: null,
    })
    await settle(h)
    expect(r.received).toHaveLength(2)
    expect(r.received[1]!.body).toBe(r.received[0]!.body)
    expect(r.received[1]!.headers['webhook-id']).toBe(d.id)
    verify(ep.secret, r.received[1]!)
    const [after] = await deliveries(h, ep.id)
    expect(after).toMatchObject({ status: 'succeeded', attempt_count: 1 })
    expect(after.attempts).toHaveLength(2)

    // A disabled endpoint is not replayed to.
    await h.bapi('PATCH', `/v1/webhook-endpoints/${ep.id}`, { disabled: true })
    const refused = await h.bapi('POST', `/v1/webhook-endpoints/${ep.id}/deliveries/${d.id}/replay`)
    expect(refused.status).toBe(409)
    expect((await body(refused)).errors[0].code).toBe('webhook_endpoint_disabled')
  })

  it('disables an endpoint after five days of failures, and stops queueing for it', async () => {
    const h = await setup()
    const r = listen(() => new Response(null, { status: 500 }))
    const ep = await endpoint(h, r.url)
    await createUser(h)
    await settle(h)
    h.clock.advance(5 * 24 * 3600_000)
    await createUser(h)
    await settle(h)
    const disabled = await body(await h.bapi('GET', `/v1/webhook-endpoints/${ep.id}`))
    expect(disabled).toMatchObject({ disabled: true, disabled_reason: 'failing' })
    const before = (await deliveries(h, ep.id)).length
    await createUser(h)
    await settle(h)
    expect(await deliveries(h, ep.id)).toHaveLength(before)
    // Pending retries wait while it is disabled.
    const sent = r.received.length
    h.clock.advance(24 * 3600_000)
    await h.rt.scheduler.tick()
    expect(r.received).toHaveLength(sent)
  })
})
