// A burst of password sign-ins at the real argon2id cost (~64 MiB and tens of ms each) must
// not stall token refreshes: hashing runs outside transactions, at most `concurrency` at once,
// and the rest wait in the hasher's queue (or get a 429 beyond it). In-process runtime (no
// port), real hasher, one env; see src/crypto/passwords.ts. Nothing here is timed: latency and
// memory under the flood are measured by bench/password-flood.ts (bench/README.md).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { createPasswordHasher } from '../../src/crypto/passwords'
import { silentLogger } from '../../src/log'
import { createRuntime, type Runtime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'
import { fixtureKeys } from '../helpers/keys'

const HOST = 'clerk.flood.test'
const ORIGIN = `https://${HOST}`
const EMAIL = 'flood@example.com'
const PASSWORD = 'correct horse battery staple'
const CONCURRENCY = 2
const FLOOD = 8

let dir: string
let rt: Runtime
let secretKey: string

// Counts argon2 work actually running (under the hasher's queue), to check the bound directly,
// and the runs finished so far, to tell whether a refresh had to wait for one.
const original = { hash: Bun.password.hash, verify: Bun.password.verify }
let argonRunning = 0
let argonPeak = 0
let argonFinished = 0
function counted<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    argonPeak = Math.max(argonPeak, ++argonRunning)
    try {
      return await fn(...args)
    } finally {
      argonRunning--
      argonFinished++
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

/** Lets timers, I/O and worker-thread completions (argon2) run before the next refresh. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

beforeAll(async () => {
  Bun.password.hash = counted(original.hash) as typeof Bun.password.hash
  Bun.password.verify = counted(original.verify) as typeof Bun.password.verify
  dir = mkdtempSync(join(tmpdir(), 'authn-flood-'))
  rt = createRuntime(loadConfig({}, { dataDir: dir, logLevel: 'silent', rateLimits: false }), {
    log: silentLogger,
    // The production hasher: default argon2id cost (64 MiB, t=2), two at once, default queue;
    // a long deadline, so a slow machine measures the queueing, not the 10 s budget.
    passwords: createPasswordHasher({ concurrency: CONCURRENCY, deadlineMs: 120_000 }),
    signingKeys: fixtureKeys(),
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
  test('queues argon2 at the bound and keeps token refreshes flowing while hashes wait', async () => {
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
      const res = await call(`/v1/client/sessions/${sid}/tokens`, {
        method: 'POST',
        headers: { cookie: cookie!, origin: ORIGIN },
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as any).object).toBe('token')
    }
    await refresh() // key import, prepared statements
    argonPeak = 0

    // The flood: FLOOD fresh clients (no cookie) sign in at once, while the browser refreshes.
    let done = false
    const flood = Promise.all(
      Array.from({ length: FLOOD }, (_, i) => signIn(`10.0.${i >> 8}.${i & 255}`)),
    ).then((responses) => {
      done = true
      return responses
    })
    let pendingPeak = 0
    let refreshes = 0
    // Refreshes that started with hashes queued behind the running ones and finished before
    // any argon2 run did: they did not wait for the hasher.
    let aheadOfHashes = 0
    while (!done) {
      const pending = rt.passwords.pending
      pendingPeak = Math.max(pendingPeak, pending)
      const finished = argonFinished
      await refresh()
      refreshes++
      if (pending > CONCURRENCY && argonFinished === finished) aheadOfHashes++
      await yieldToLoop()
    }
    const responses = await flood

    const statuses = responses.map((r) => r.status)
    const ok = responses.filter((r) => r.status === 200)
    for (const r of ok) {
      const b = (await r.json()) as any
      expect(b.response.status).toBe('complete')
      expect(b.response.created_session_id).toBeTruthy()
    }
    for (const r of responses.filter((r) => r.status === 429))
      expect(r.headers.get('retry-after')).toBeTruthy()

    // Every sign-in answered: 200, or 429 when the hasher's queue is full (it is not, here).
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect(ok).toHaveLength(FLOOD)
    // The bound held and the rest queued: never more than CONCURRENCY argon2 runs at once.
    expect(argonPeak).toBe(CONCURRENCY)
    expect(pendingPeak).toBeGreaterThan(CONCURRENCY)
    expect(rt.passwords.pending).toBe(0)
    // Refreshes kept completing during the flood without waiting for queued hashes.
    expect(refreshes).toBeGreaterThanOrEqual(10)
    expect(aheadOfHashes).toBeGreaterThanOrEqual(10)
  }, 20_000)
})
