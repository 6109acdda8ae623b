import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import pino from 'pino'
import { createScheduler, type Timers } from '../../src/jobs/scheduler'
import { silentLogger } from '../../src/log'
import { checkEnvironments } from '../../src/tenancy/environments'
import { envDbFile, envDir, envKeysDir } from '../../src/tenancy/paths'
import { type EnvPool, EnvUnavailableError } from '../../src/tenancy/pool'
import { body, createHarness, type Harness, type TestEnv } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}, {}, {}] })
})
afterAll(() => h.close())

const dirOf = (env: TestEnv) => envDir(h.dir, env.id)
const jwks = (env: TestEnv) => h.request(`https://${env.host}/.well-known/jwks.json`)
const userList = (env: TestEnv) => h.bapi('GET', '/v1/users', undefined, { env })

async function expectUnavailable(res: Response) {
  expect(res.status).toBe(503)
  const b = await body(res)
  expect(b.errors[0].code).toBe('environment_unavailable')
  expect(typeof b.trace_id).toBe('string')
  // Nothing about the folder reaches the caller.
  expect(JSON.stringify(b)).not.toContain(h.dir)
  return res
}

/** Closes the env's handle so that the next request opens its folder again. */
const closeHandle = (env: TestEnv) => h.rt.pool.evict(env.id)

describe('an environment that cannot be opened', () => {
  it('missing keys/: its host and its secret key answer 503 environment_unavailable; the others are served', async () => {
    const [good, broken] = h.envs as [TestEnv, TestEnv]
    closeHandle(broken)
    const keys = envKeysDir(dirOf(broken))
    renameSync(keys, `${keys}.away`)

    await expectUnavailable(await jwks(broken))
    await expectUnavailable(await userList(broken))
    expect((await jwks(good)).status).toBe(200)
    expect((await userList(good)).status).toBe(200)
    expect(h.rt.pool.unavailable().map((u) => u.id)).toEqual([broken.id])

    // Repaired: the folder changed, so the next request opens it without waiting for a backoff.
    renameSync(`${keys}.away`, keys)
    expect((await jwks(broken)).status).toBe(200)
    expect((await userList(broken)).status).toBe(200)
    expect(h.rt.pool.unavailable()).toEqual([])
  })

  it('a corrupt env.sqlite is retried after a growing backoff, not on every request', async () => {
    const broken = h.envs[1]!
    closeHandle(broken)
    const file = envDbFile(dirOf(broken))
    // Everything in the main file, then garbage over it and no WAL beside it. (A closed handle
    // may linger until its statements are collected, still holding the old WAL open.)
    const db = new Database(file)
    db.run('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    const saved = readFileSync(file)
    writeFileSync(file, Buffer.alloc(saved.length, 7))
    rmSync(`${file}-wal`, { force: true })
    rmSync(`${file}-shm`, { force: true })

    const first = await expectUnavailable(await jwks(broken))
    expect(first.headers.get('retry-after')).toBe('5')
    h.clock.advance(1000)
    // Within the backoff the folder is not opened again: the same record answers.
    expect((await expectUnavailable(await jwks(broken))).headers.get('retry-after')).toBe('4')
    h.clock.advance(4001)
    // Past it, it is tried again, fails again, and waits longer.
    expect((await expectUnavailable(await jwks(broken))).headers.get('retry-after')).toBe('30')

    writeFileSync(file, saved)
    expect((await jwks(broken)).status).toBe(200)
  })

  it('a failed migration makes it unavailable', async () => {
    const broken = h.envs[2]!
    closeHandle(broken)
    const db = new Database(envDbFile(dirOf(broken)))
    // The last migration looks unapplied, and applying it again fails (its columns exist).
    const last = db
      .query<{ hash: string; created_at: number }, []>(
        'SELECT hash, created_at FROM __drizzle_migrations ORDER BY rowid DESC LIMIT 1',
      )
      .get()!
    db.run('DELETE FROM __drizzle_migrations WHERE rowid = (SELECT max(rowid) FROM __drizzle_migrations)')
    await expectUnavailable(await jwks(broken))
    expect(h.rt.pool.unavailable().find((u) => u.id === broken.id)?.reason).toContain(
      'Failed to run the query',
    )
    expect((await jwks(h.envs[0]!)).status).toBe(200)

    // Repaired through SQLite (the WAL changes, not the main file): seen at once.
    db.run('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', [last.hash, last.created_at])
    db.close()
    expect((await jwks(broken)).status).toBe(200)
  })

  it('the start-up check finds a folder without its keys and hands it to the pool', async () => {
    const broken = h.envs[3]!
    closeHandle(broken)
    const keys = envKeysDir(dirOf(broken))
    renameSync(keys, `${keys}.away`)
    const found = checkEnvironments(h.rt.tenancy)
    expect(found.map((f) => f.id)).toContain(broken.id)
    expect(found.find((f) => f.id === broken.id)?.reason).toContain('keys')
    await expectUnavailable(await jwks(broken))
    renameSync(`${keys}.away`, keys)
    expect((await jwks(broken)).status).toBe(200)
  })

  it('the scheduler skips it until the pool will try again, and runs every other env', async () => {
    const broken = h.envs[3]!
    closeHandle(broken)
    const keys = envKeysDir(dirOf(broken))
    renameSync(keys, `${keys}.away`)
    try {
      const ran: string[] = []
      const s = createScheduler({
        jobs: [{ name: 'record', run: (ctx) => void ran.push(ctx.id) }],
        pool: h.rt.pool,
        registry: h.rt.registry,
        clock: h.clock,
        log: silentLogger,
        intervalMs: 60_000,
      })
      for (const e of h.envs) h.rt.registry.setDue(e.id, 0)
      await s.tick()
      expect(ran.sort()).toEqual(
        h.envs
          .filter((e) => e !== broken)
          .map((e) => e.id)
          .sort(),
      )
      const retryAt = h.rt.pool.unavailable().find((u) => u.id === broken.id)!.retryAt
      expect(h.rt.registry.dueAt(broken.id)).toBe(retryAt)
      await s.stop()
    } finally {
      renameSync(`${keys}.away`, keys)
    }
  })

  it('a lease that throws never ends the interval ticks (nor the process)', async () => {
    const waits: Array<() => void> = []
    const timers: Timers = { set: (fn) => waits.push(fn), clear: () => {} }
    const failing: EnvPool = {
      ...h.rt.pool,
      lease: () => {
        throw new Error('disk on fire')
      },
    }
    const errors: string[] = []
    const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) })
    const s = createScheduler({
      jobs: [{ name: 'noop', run: () => {} }],
      pool: failing,
      registry: h.rt.registry,
      clock: h.clock,
      log,
      intervalMs: 50,
      timers,
    })
    for (const e of h.envs) h.rt.registry.setDue(e.id, 0)
    s.start()
    waits.shift()!()
    await s.idle()
    expect(errors.length).toBeGreaterThan(0)
    expect(waits).toHaveLength(1) // the next tick is scheduled
    await s.stop()
  })

  it('EnvUnavailableError is the 503 AppError the dispatcher presents', () => {
    const err = new EnvUnavailableError('env_x', 'why', 0, 2500)
    expect(err.status).toBe(503)
    expect(err.items[0]!.code).toBe('environment_unavailable')
    expect(err.headers).toEqual({ 'retry-after': '3' })
    expect(err.message).not.toContain('why')
  })
})
