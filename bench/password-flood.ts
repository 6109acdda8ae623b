// Token refreshes and memory under a flood of password sign-ins at the real argon2id cost, in
// process (no HTTP): the measurements behind test/e2e/password-flood.test.ts, which checks the
// same scenario functionally (bounded argon2, queued sign-ins, refreshes not waiting) without
// timing anything. One env, the production hasher (64 MiB, t=2, two at once, default queue),
// one browser that signs in once and then refreshes its session token every ~2 ms while
// BENCH_FLOOD fresh clients sign in at once. See bench/README.md, "Password flood".
//
// usage: npx bun bench/password-flood.ts        (BENCH_FLOOD=40 by default)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createPasswordHasher } from '../src/crypto/passwords'
import { silentLogger } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment } from '../src/tenancy/environments'

const FLOOD = Number(process.env.BENCH_FLOOD ?? 40)
const CONCURRENCY = 2
/** The goals the flood must meet (they were test assertions before they moved here). */
const GOALS = { refresh_p95_ms: 50, rss_growth_mb: 300 }
const HOST = 'clerk.flood.test'
const ORIGIN = `https://${HOST}`
const EMAIL = 'flood@example.com'
const PASSWORD = 'correct horse battery staple'
if (!Number.isInteger(FLOOD) || FLOOD <= 0) throw new Error('BENCH_FLOOD must be a positive integer')

// Counts argon2 work actually running (under the hasher's queue).
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
Bun.password.hash = counted(original.hash) as typeof Bun.password.hash
Bun.password.verify = counted(original.verify) as typeof Bun.password.verify

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (n: number) => +n.toFixed(2)

const dir = mkdtempSync(join(tmpdir(), 'authn-flood-'))
const rt = createRuntime(loadConfig({}, { dataDir: dir, logLevel: 'silent', rateLimits: false }), {
  log: silentLogger,
  passwords: createPasswordHasher({ concurrency: CONCURRENCY }),
})
let failed = false
try {
  const env = await createEnvironment(rt.tenancy, { name: 'Flood', hosts: [HOST] })
  const call = (path: string, init: RequestInit = {}, ip = '127.0.0.1') =>
    rt.server.handle(new Request(`https://${HOST}${path}`, init), ip)
  const signIn = (ip: string) =>
    call(
      '/v1/client/sign-ins',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ identifier: EMAIL, password: PASSWORD }),
      },
      ip,
    )

  const created = await rt.server.handle(
    new Request('https://api.authn.test/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${env.secret_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email_address: [EMAIL], password: PASSWORD }),
    }),
    '127.0.0.1',
  )
  if (created.status !== 200) throw new Error(`POST /v1/users -> ${created.status}: ${await created.text()}`)
  const first = await signIn('127.0.0.1')
  if (first.status !== 200) throw new Error(`sign-in -> ${first.status}: ${await first.text()}`)
  const sid = ((await first.json()) as { response: { created_session_id: string } }).response
    .created_session_id
  const cookie = first.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('__authn_client='))!
  let refreshErrors = 0
  const refresh = async () => {
    const t0 = performance.now()
    const res = await call(`/v1/client/sessions/${sid}/tokens`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN },
    })
    await res.arrayBuffer()
    const took = performance.now() - t0
    if (res.status !== 200) refreshErrors++
    return took
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
    await Bun.sleep(2) // the browser's refresh cadence
  }
  const responses = await flood
  const floodMs = performance.now() - t0
  during.sort((a, b) => a - b)

  const statuses = responses.map((r) => r.status)
  const result = {
    flood: FLOOD,
    concurrency: CONCURRENCY,
    flood_ms: Math.round(floodMs),
    sign_ins: {
      ok: statuses.filter((s) => s === 200).length,
      too_many: statuses.filter((s) => s === 429).length,
      other: statuses.filter((s) => s !== 200 && s !== 429).length,
    },
    argon2_peak_in_flight: argonPeak,
    hasher_pending_peak: pendingPeak,
    refreshes_during_flood: during.length,
    refresh_errors: refreshErrors,
    refresh_ms_idle: { p50: ms(percentile(idle, 50)), p95: ms(percentile(idle, 95)) },
    refresh_ms_flood: {
      p50: ms(percentile(during, 50)),
      p95: ms(percentile(during, 95)),
      max: ms(during.at(-1)!),
    },
    rss_mb: { before: Math.round(rss0 / 2 ** 20), growth: Math.round((rssPeak - rss0) / 2 ** 20) },
    goals: GOALS,
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? null,
      loadavg: os.loadavg(),
      bun: Bun.version,
    },
  }
  const checks = [
    [
      'refresh p95 during the flood',
      result.refresh_ms_flood.p95,
      `< ${GOALS.refresh_p95_ms} ms`,
      result.refresh_ms_flood.p95 < GOALS.refresh_p95_ms,
    ],
    [
      'RSS growth',
      result.rss_mb.growth,
      `< ${GOALS.rss_growth_mb} MiB`,
      result.rss_mb.growth < GOALS.rss_growth_mb,
    ],
    ['argon2 runs at once', argonPeak, `<= ${CONCURRENCY}`, argonPeak <= CONCURRENCY],
    [
      'failed requests',
      result.sign_ins.other + refreshErrors,
      '0',
      result.sign_ins.other + refreshErrors === 0,
    ],
  ] as const
  console.log(JSON.stringify(result))
  for (const [name, value, goal, ok] of checks) {
    console.log(`${name.padEnd(30)} ${String(value).padStart(8)}  ${goal.padEnd(10)} ${ok ? 'ok' : 'MISS'}`)
    if (!ok) failed = true
  }
  const out = join(import.meta.dir, 'results', 'password-flood.json')
  mkdirSync(join(import.meta.dir, 'results'), { recursive: true })
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
} finally {
  Bun.password.hash = original.hash
  Bun.password.verify = original.verify
  rt.close()
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
