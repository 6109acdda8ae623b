// A burst of password sign-ins at the real argon2id cost (~64 MiB and tens of ms each) must
// neither exhaust memory nor stall token refreshes: hashing runs outside transactions, at most
// `concurrency` at once, and the rest wait in the hasher's queue (or get a 429 beyond it).
// In-process runtime (no port), real hasher, one env; see src/crypto/passwords.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { createPasswordHasher } from '../../src/crypto/passwords'
import { silentLogger } from '../../src/log'
import { createRuntime, type Runtime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'

const HOST = 'clerk.flood.test'
const ORIGIN = `https://${HOST}`
const EMAIL = 'flood@example.com'
const PASSWORD = 'correct horse battery staple'
const CONCURRENCY = 2
const FLOOD = 40

let dir: string
let rt: Runtime
let secretKey: string

// Counts argon2 work actually running (under the hasher's queue), to check the bound directly.
const original = { hash: Bun.password.hash, verify: Bun.password.verify }
let argonRunning = 0
let argonPeak = 0
function counted<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    argonPeak = Math.max(argonPeak, ++argonRunning)
    try {
      return await fn(...args)
    } finally {
      argonRunning--
    }
  }
}

const call = (
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
  ip = '127.0.0.1',
) => rt.server.handle(new Request(`https://${HOST}${path}`, init), ip)

async function signIn(ip: string): Promise<Response> {
  return call(
    '/v1/client/sign-ins',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ identifier: EMAIL, password: PASSWORD }),
    },
    ip,
  )
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

beforeAll(async () => {
  Bun.password.hash = counted(original.hash) as typeof Bun.password.hash
  Bun.password.verify = counted(original.verify) as typeof Bun.password.verify
  dir = mkdtempSync(join(tmpdir(), 'authn-flood-'))
  rt = createRuntime(loadConfig({}, { dataDir: dir, logLevel: 'silent', rateLimits: false }), {
    log: silentLogger,
    // The production hasher: default argon2id cost (64 MiB, t=2), two at once, default queue.
    passwords: createPasswordHasher({ concurrency: CONCURRENCY }),
  })
  const env = await createEnvironment(rt.tenancy, { name: 'Flood', hosts: [HOST] })
  secretKey = env.secret_key
})

afterAll(() => {
  Bun.password.hash = original.hash
  Bun.password.verify = original.verify
  rt?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('a flood of password sign-ins', () => {
  test('queues argon2 at the bound, keeps memory bounded and token refreshes fast', async () => {
    const created = await rt.server.handle(
      new Request('https://api.authn.test/v1/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email_address: [EMAIL], password: PASSWORD }),
      }),
      '127.0.0.1',
    )
    expect(created.status).toBe(200)

    // The refreshing browser: signed in once, then only refreshes its session token.
    const first = await signIn('127.0.0.1')
    expect(first.status).toBe(200)
    const sid = ((await first.json()) as any).response.created_session_id as string
    const cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('__authn_client='))
    expect(sid).toBeTruthy()
    expect(cookie).toBeTruthy()
    const refresh = async () => {
      const t0 = performance.now()
      const res = await call(`/v1/client/sessions/${sid}/tokens`, {
        method: 'POST',
        headers: { cookie: cookie!, origin: ORIGIN },
      })
      const ms = performance.now() - t0
      expect(res.status).toBe(200)
      expect(((await res.json()) as any).object).toBe('token')
      return ms
    }

    // Warm-up (JIT, key import, prepared statements), then the idle latency for reference.
    for (let i = 0; i < 20; i++) await refresh()
    const idle: number[] = []
    for (let i = 0; i < 50; i++) idle.push(await refresh())
    idle.sort((a, b) => a - b)

    Bun.gc(true)
    const rss0 = process.memoryUsage().rss
    let rssPeak = rss0
    let pendingPeak = 0
    argonPeak = 0

    // The flood: FLOOD fresh clients (no cookie) sign in at once, while the browser refreshes.
    const t0 = performance.now()
    let done = false
    const flood = Promise.all(
      Array.from({ length: FLOOD }, (_, i) => signIn(`10.0.${i >> 8}.${i & 255}`)),
    ).then((responses) => {
      done = true
      return responses
    })
    const during: number[] = []
    while (!done) {
      pendingPeak = Math.max(pendingPeak, rt.passwords.pending)
      during.push(await refresh())
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
      await Bun.sleep(2)
    }
    const responses = await flood
    const floodMs = performance.now() - t0

    const statuses = responses.map((r) => r.status)
    const ok = responses.filter((r) => r.status === 200)
    for (const r of ok) {
      const b = (await r.json()) as any
      expect(b.response.status).toBe('complete')
      expect(b.response.created_session_id).toBeTruthy()
    }
    for (const r of responses.filter((r) => r.status === 429))
      expect(r.headers.get('retry-after')).toBeTruthy()

    during.sort((a, b) => a - b)
    const stats = {
      flood_ms: Math.round(floodMs),
      sign_ins: { ok: ok.length, too_many: statuses.filter((s) => s === 429).length },
      argon2_peak_in_flight: argonPeak,
      hasher_pending_peak: pendingPeak,
      refreshes_during_flood: during.length,
      refresh_ms_idle: { p50: +percentile(idle, 50).toFixed(2), p95: +percentile(idle, 95).toFixed(2) },
      refresh_ms_flood: {
        p50: +percentile(during, 50).toFixed(2),
        p95: +percentile(during, 95).toFixed(2),
        max: +during.at(-1)!.toFixed(2),
      },
      rss_mb: { before: Math.round(rss0 / 2 ** 20), growth: Math.round((rssPeak - rss0) / 2 ** 20) },
    }
    if (process.env.FLOOD_STATS) console.log(JSON.stringify(stats))

    // Every sign-in answered: 200, or 429 when the hasher's queue is full.
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect(ok.length).toBeGreaterThanOrEqual(CONCURRENCY)
    // The bound held and the rest queued: never more than CONCURRENCY argon2 runs at once.
    expect(argonPeak).toBeLessThanOrEqual(CONCURRENCY)
    expect(pendingPeak).toBeGreaterThan(CONCURRENCY)
    // The flood took a long time (dozens of 64 MiB hashes, two at a time) ...
    expect(floodMs).toBeGreaterThan(400)
    // ... while refreshes kept flowing, fast.
    expect(during.length).toBeGreaterThanOrEqual(10)
    expect(percentile(during, 95)).toBeLessThan(50)
    // 2 x 64 MiB of argon2 plus slack; unbounded, FLOOD x 64 MiB would be ~2.5 GiB.
    expect(rssPeak - rss0).toBeLessThan(300 * 2 ** 20)
  }, 20_000)
})
