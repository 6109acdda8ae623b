import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { Webhook } from 'svix'
import { BUN, cli, freePort, ROOT, startServer } from './helpers'

/**
 * `serve --workers 2`: two real server processes on one port (SO_REUSEPORT), one data root.
 * Requests go over fresh connections so the kernel spreads them; each process logs its worker
 * index on its access lines, which is how the tests know both answered.
 */
const SERVE = [BUN, `${ROOT}src/main.ts`]
const dir = mkdtempSync(join(tmpdir(), 'authn-e2e-workers-'))
const HOST = 'workers.localhost'
const APP = 'http://workers.localhost'
let port: number
let leader: Subprocess<'ignore', 'pipe', 'pipe'>
let secretKey: string
let out = ''

/** Worker indexes on the access lines of requests whose trace ids are given. */
function workersThatServed(traceIds: string[]) {
  const wanted = new Set(traceIds)
  const seen = new Set<number>()
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    const entry = JSON.parse(line) as { msg?: string; trace_id?: string; worker?: number }
    if (entry.msg === 'request' && entry.trace_id && wanted.has(entry.trace_id)) seen.add(entry.worker!)
  }
  return seen
}

/** Access lines are flushed every 100 ms. */
const flushed = () => new Promise((r) => setTimeout(r, 400))

/** A request on its own connection; `ip` is the client a trusted proxy (the test) forwards. */
async function call(
  method: string,
  path: string,
  opts: { body?: unknown; bapi?: boolean; ip?: string } = {},
) {
  const headers: Record<string, string> = { connection: 'close' }
  if (opts.bapi) headers.authorization = `Bearer ${secretKey}`
  else Object.assign(headers, { host: HOST, origin: APP })
  if (opts.ip) headers['x-forwarded-for'] = opts.ip
  if (opts.body) headers['content-type'] = 'application/json'
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: opts.body ? JSON.stringify(opts.body) : undefined,
    keepalive: false,
  })
  return { status: res.status, trace: res.headers.get('x-trace-id')!, body: (await res.json()) as any }
}

beforeAll(async () => {
  const made = await cli(['env', 'create', '--name', 'Workers', '--host', HOST, '--data', dir, '--json'])
  expect(made.code).toBe(0)
  secretKey = JSON.parse(made.stdout).secret_key
  port = await freePort()
  leader = Bun.spawn([...SERVE, 'serve', '--port', String(port), '--data', dir, '--workers', '2'], {
    cwd: ROOT,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      ...process.env,
      AUTHN_HOSTNAME: '127.0.0.1',
      AUTHN_LOG_LEVEL: 'info',
      // The test stands in for a reverse proxy, to speak for many clients.
      AUTHN_TRUSTED_PROXIES: '127.0.0.1',
      // Webhook retries come due within the test.
      AUTHN_JOB_INTERVAL_MS: '200',
    },
  })
  const reader = leader.stdout.getReader()
  const decoder = new TextDecoder()
  const deadline = Date.now() + 30_000
  while (!out.includes('authn listening on')) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${out}`)
    const { done, value } = await reader.read()
    if (done) throw new Error(`server exited:\n${out}\n${await new Response(leader.stderr).text()}`)
    out += decoder.decode(value)
  }
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      out += decoder.decode(value)
    }
  })()
}, 60_000)

afterAll(async () => {
  if (leader.exitCode === null) {
    leader.kill('SIGTERM')
    await leader.exited
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('serve --workers 2', () => {
  it('says so, and both processes answer on the one port', async () => {
    expect(out).toContain('2 server processes share the port (--workers)')
    const traces = await Promise.all(
      Array.from({ length: 30 }, async () => (await call('GET', '/.well-known/jwks.json')).trace),
    )
    await flushed()
    expect(workersThatServed(traces)).toEqual(new Set([0, 1]))
  }, 30_000)

  it('a rate limit of 5 holds across both workers', async () => {
    const answers = []
    for (let i = 0; i < 30; i++)
      answers.push(
        await call('POST', '/v1/client/sign-ins', {
          body: { identifier: 'nobody@example.com' },
          ip: '203.0.113.7',
        }),
      )
    await flushed()
    expect(workersThatServed(answers.map((a) => a.trace))).toEqual(new Set([0, 1]))
    // Counted in each process's memory, up to 10 would have gone through.
    expect(answers.filter((a) => a.status !== 429)).toHaveLength(5)
    expect(answers.slice(5).every((a) => a.status === 429)).toBe(true)
  }, 30_000)

  it('a user locked through one worker is locked in the other', async () => {
    const patched = await call('PATCH', '/v1/instance', {
      bapi: true,
      body: { lockout: { enabled: true, max_attempts: 3, duration_seconds: 600 } },
    })
    expect(patched.status).toBe(200)
    const user = await call('POST', '/v1/users', {
      bapi: true,
      body: { email_address: ['locked@example.com'], password: 'correct horse battery' },
    })
    expect(user.status).toBe(200)
    let n = 0
    const attempt = (password: string) =>
      call('POST', '/v1/client/sign-ins', {
        body: { identifier: 'locked@example.com', password },
        ip: `198.51.100.${++n}`,
      })
    for (let i = 0; i < 3; i++) await attempt('wrong password here')
    const after = await Promise.all(Array.from({ length: 24 }, () => attempt('correct horse battery')))
    await flushed()
    expect(workersThatServed(after.map((a) => a.trace))).toEqual(new Set([0, 1]))
    for (const a of after) {
      expect(a.status).toBe(403)
      expect(a.body.errors[0].code).toBe('user_locked')
    }
  }, 60_000)

  it('jobs run in the leader only: kicked by either worker, retried by the tick, each once', async () => {
    const received: Array<{ body: string; headers: Record<string, string>; status: number }> = []
    const hooks = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        // The first three attempts fail: their retries are the scheduler's, 5 s later.
        const status = received.length < 3 ? 500 : 200
        received.push({ body: await req.text(), headers: Object.fromEntries(req.headers), status })
        return new Response('', { status })
      },
    })
    try {
      const endpoint = await call('POST', '/v1/webhook-endpoints', {
        bapi: true,
        body: { url: `http://127.0.0.1:${hooks.port}/hooks` },
      })
      expect(endpoint.status).toBe(200)
      const secret = endpoint.body.secret as string
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call('POST', '/v1/users', {
            bapi: true,
            // No password: nothing here should wait on the hashing queue.
            body: { email_address: [`hook${i}@example.com`], skip_password_requirement: true },
          }),
        ),
      )
      expect(created.every((c) => c.status === 200)).toBe(true)
      await flushed()
      expect(workersThatServed(created.map((c) => c.trace))).toEqual(new Set([0, 1]))
      const deadline = Date.now() + 15_000
      while (received.filter((r) => r.status === 200).length < 20 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      // A moment longer, for a second delivery to show up if a job ran twice.
      await new Promise((r) => setTimeout(r, 1000))
      const delivered = received
        .filter((r) => r.status === 200)
        .map((r) => (new Webhook(secret).verify(r.body, r.headers) as { data: { id: string } }).data.id)
      expect(delivered.sort()).toEqual(created.map((c) => c.body.id).sort())
      expect(received).toHaveLength(23)
      await flushed()
      const failures = out
        .split('\n')
        .filter((l) => l.includes('"msg":"webhook attempt failed"'))
        .map((l) => JSON.parse(l).worker)
      expect(failures).toEqual([0, 0, 0])
    } finally {
      hooks.stop(true)
    }
  }, 40_000)

  it('members stop when the leader is killed, so the next server gets the port and the root', async () => {
    const children = readFileSync(`/proc/${leader.pid}/task/${leader.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    expect(children).toHaveLength(1)
    leader.kill('SIGKILL')
    await leader.exited
    // Gone, or a zombie nobody reaps (PID 1 of a container need not).
    const gone = () =>
      !existsSync(`/proc/${children[0]}/stat`) ||
      readFileSync(`/proc/${children[0]}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')
    const deadline = Date.now() + 5_000
    while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(gone()).toBe(true)
    const next = await startServer(SERVE, dir, port)
    try {
      expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200)
    } finally {
      expect(await next.stop()).toBe(0)
    }
  }, 30_000)
})
