import { afterEach, describe, expect, test } from 'bun:test'
import { body, createHarness, type Harness } from '../helpers/harness'
import { familyOf, parseExposition, samples } from './prometheus'
import { makeReadOnly } from './read-only'

let h: Harness | null = null
afterEach(() => {
  h?.close()
  h = null
})

describe('health and readiness', () => {
  test('/healthz and /readyz answer on any host, outside the API surfaces', async () => {
    h = await createHarness()
    for (const host of [
      'https://unknown-host.example.test',
      `https://${h.env.host}`,
      'https://api.authn.test',
    ]) {
      const health = await h.request(`${host}/healthz`)
      expect(health.status).toBe(200)
      expect(await body(health)).toEqual({ status: 'ok' })
      const ready = await h.request(`${host}/readyz`)
      expect(ready.status).toBe(200)
      expect(await body(ready)).toEqual({
        status: 'ready',
        checks: { data_dir: { ok: true }, registry: { ok: true } },
      })
    }
    // A BAPI key does not turn it into an API call, and writes are not health checks.
    const post = await h.request('https://api.authn.test/readyz', {
      method: 'POST',
      headers: { authorization: `Bearer ${h.env.secretKey}` },
    })
    expect(post.status).toBe(405)
  })

  test('/readyz is unready while the data directory is read-only, ready again after', async () => {
    h = await createHarness()
    const undo = makeReadOnly(h.dir)
    try {
      const res = await h.request('https://api.authn.test/readyz')
      expect(res.status).toBe(503)
      const b = await body(res)
      expect(b.status).toBe('unready')
      expect(b.checks.data_dir.ok).toBe(false)
      expect(b.checks.data_dir.error).toMatch(/EROFS|read-only/)
      expect(b.checks.registry).toEqual({ ok: true })
    } finally {
      undo()
    }
    expect((await h.request('https://api.authn.test/readyz')).status).toBe(200)
  })

  test('/readyz is unready once shutdown began, and when the registry is closed', async () => {
    h = await createHarness()
    h.rt.drain()
    const draining = await body(await h.request('https://api.authn.test/readyz'))
    expect(draining.checks.shutdown).toEqual({ ok: false, error: 'the server is shutting down' })
    h.rt.registry.close()
    const res = await h.request('https://api.authn.test/readyz')
    expect(res.status).toBe(503)
    expect((await body(res)).checks.registry.ok).toBe(false)
    await h.restart() // a fresh registry for close()
  })
})

describe('shutdown', () => {
  test('once the listener closed, a request still arriving gets 503 server_shutting_down and Connection: close', async () => {
    h = await createHarness()
    expect((await h.bapi('GET', '/v1/users')).status).toBe(200)
    h.rt.drain()
    h.rt.server.refuseNew()
    const res = await h.bapi('GET', '/v1/users')
    expect(res.status).toBe(503)
    expect(res.headers.get('connection')).toBe('close')
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await body(res)).errors[0].code).toBe('server_shutting_down')
    // Probes still answer: liveness yes, readiness no.
    expect((await h.request('https://api.authn.test/healthz')).status).toBe(200)
    expect((await h.request('https://api.authn.test/readyz')).status).toBe(503)
  })
})

describe('/metrics', () => {
  const scrape = async (h: Harness, headers: Record<string, string> = {}) => {
    const res = await h.request('https://api.authn.test/metrics', { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    return parseExposition(await res.text())
  }

  test('Prometheus text with requests by surface, route template and status', async () => {
    h = await createHarness()
    const created = await h.bapi('POST', '/v1/users', {
      email_address: ['ada@example.com'],
      password: 'correct horse battery',
    })
    expect(created.status).toBe(200)
    const userId = (await body(created)).id as string
    expect((await h.bapi('GET', '/v1/users')).status).toBe(200)
    expect((await h.bapi('GET', `/v1/users/${userId}`)).status).toBe(200)
    expect((await h.bapi('GET', '/v1/users/user_2xxxxxxxxxxxxxxxxxxxxxxxxx')).status).toBe(404)
    expect((await h.fapi('GET', '/v1/environment')).status).toBe(200)
    // No env for the host and no key: refused before any surface is bound.
    expect((await h.request('https://api.authn.test/v1/nowhere')).status).toBe(401)

    const families = await scrape(h)
    expect(familyOf(families, 'authn_http_requests').type).toBe('counter')
    const count = (labels: Record<string, string>) =>
      samples(families, 'authn_http_requests_total', labels).reduce((n, s) => n + s.value, 0)
    expect(count({ surface: 'bapi', route: '/v1/users', method: 'POST', status: '200' })).toBe(1)
    expect(count({ surface: 'bapi', route: '/v1/users', method: 'GET', status: '200' })).toBe(1)
    // The template, never the id: one series per route, whatever ids are asked for.
    const byId = samples(families, 'authn_http_requests_total').filter((s) =>
      s.labels.route?.startsWith('/v1/users/'),
    )
    expect(byId.map((s) => [s.labels.route, s.labels.status]).sort()).toEqual([
      ['/v1/users/:id', '200'],
      ['/v1/users/:id', '404'],
    ])
    expect(count({ surface: 'fapi', route: '/v1/environment', method: 'GET', status: '200' })).toBe(1)
    expect(count({ surface: 'none', route: '(no route)', status: '401' })).toBe(1)
    // Health and metrics requests are not API requests.
    expect(
      samples(families, 'authn_http_requests_total').some((s) => s.labels.route?.includes('metrics')),
    ).toBe(false)

    expect(familyOf(families, 'authn_http_request_duration_seconds').type).toBe('histogram')
    const post = { surface: 'bapi', route: '/v1/users', method: 'POST' }
    expect(samples(families, 'authn_http_request_duration_seconds_count', post)[0]?.value).toBe(1)
    expect(
      samples(families, 'authn_http_request_duration_seconds_bucket', { ...post, le: '+Inf' })[0]?.value,
    ).toBe(1)
    expect(samples(families, 'authn_http_request_duration_seconds_sum', post)[0]?.value).toBeGreaterThan(0)

    expect(samples(families, 'authn_env_handles_open')[0]?.value).toBeGreaterThanOrEqual(1)
    expect(samples(families, 'authn_env_pool_opens_total')[0]?.value).toBeGreaterThanOrEqual(1)
    expect(samples(families, 'authn_env_pool_evictions_total')[0]?.value).toBe(0)
    expect(samples(families, 'authn_password_queue_depth')[0]?.value).toBe(0)
    expect(samples(families, 'authn_webhook_backlog')[0]?.value).toBe(0)
    expect(samples(families, 'authn_webhook_attempts_total', { outcome: 'failed' })[0]?.value).toBe(0)
    for (const name of [
      'authn_password_queue_wait_seconds',
      'authn_job_lag_seconds',
      'authn_job_runs',
      'authn_replication_lag_seconds',
    ])
      familyOf(families, name)
  })

  test('pool evictions are counted when the LRU is full', async () => {
    h = await createHarness({ envs: [{}, {}, {}], config: { maxOpenEnvs: 1 } })
    for (const env of h.envs)
      expect((await h.fapi('GET', '/v1/environment', undefined, { env })).status).toBe(200)
    const families = await scrape(h)
    expect(samples(families, 'authn_env_handles_open')[0]?.value).toBe(1)
    expect(samples(families, 'authn_env_pool_evictions_total')[0]?.value).toBeGreaterThanOrEqual(2)
  })

  test('job runs and their lag are counted per job', async () => {
    h = await createHarness()
    // A kicked job (as after an event) and a tick over a fresh env, whose jobs have no work yet.
    h.rt.scheduler.kick(h.env.id, 'webhooks')
    await h.settle()
    await h.rt.scheduler.tick()
    const families = await scrape(h)
    expect(samples(families, 'authn_job_runs_total', { job: 'webhooks', outcome: 'ok' })[0]?.value).toBe(1)
    expect(samples(families, 'authn_job_lag_seconds_count', { job: 'webhooks' })[0]?.value).toBe(1)
  })

  test('AUTHN_METRICS_TOKEN guards /metrics', async () => {
    h = await createHarness({ config: { metricsToken: 'a-long-metrics-token-1234' } })
    expect((await h.request('https://api.authn.test/metrics')).status).toBe(401)
    const wrong = await h.request('https://api.authn.test/metrics', {
      headers: { authorization: 'Bearer a-long-metrics-token-9999' },
    })
    expect(wrong.status).toBe(401)
    const families = await scrape(h, { authorization: 'Bearer a-long-metrics-token-1234' })
    expect(familyOf(families, 'authn_http_requests').type).toBe('counter')
    // Health stays open: orchestrators probe it without credentials.
    expect((await h.request('https://api.authn.test/healthz')).status).toBe(200)
  })
})
