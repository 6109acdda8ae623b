import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createScheduler, type EnvJob, SWEEP_MS } from '../../src/jobs/scheduler'
import { silentLogger } from '../../src/log'
import { isMigrated } from '../../src/tenancy/open'
import { envDbFile, envDir } from '../../src/tenancy/paths'
import type { EnvPool } from '../../src/tenancy/pool'
import { createUser, emailOf, patchInstance, signedIn } from '../flows/support'
import { browser } from '../helpers/browser'
import { createHarness, type Harness, type TestEnv } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}, {}] })
})
afterAll(() => h.close())

/** The runtime's pool, counting the envs leased through it. */
function countingPool() {
  const leased: string[] = []
  const pool: EnvPool = {
    ...h.rt.pool,
    lease(id, opts) {
      leased.push(id)
      return h.rt.pool.lease(id, opts)
    },
  }
  return { pool, leased }
}

const schedulerWith = (jobs: EnvJob[], pool: EnvPool = h.rt.pool) =>
  createScheduler({
    jobs,
    pool,
    registry: h.rt.registry,
    clock: h.clock,
    log: silentLogger,
    intervalMs: 60_000,
  })

const row = <T>(sql: string, env: TestEnv = h.env) => h.ctx((ctx) => ctx.client.query<T, []>(sql).get(), env)

/** A sign-in waiting for its first factor; answers its abandon_at. */
async function startSignIn(env: TestEnv): Promise<number> {
  const user = await createUser(h, {}, env)
  const res = await browser(h, env).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) })
  expect(res.status).toBe(200)
  const at = row<{ at: number }>(
    "SELECT abandon_at AS at FROM sign_ins WHERE status = 'needs_first_factor'",
    env,
  )!.at
  expect(at).toBeGreaterThan(h.clock.now())
  return at
}

describe('the scheduler opens only envs with due work', () => {
  it('after a pass, a tick with nothing due leases no env at all', async () => {
    const { pool, leased } = countingPool()
    let runs = 0
    const s = schedulerWith([{ name: 'idle', run: () => void runs++, nextDue: () => null }], pool)
    for (const e of h.envs) h.rt.registry.setDue(e.id, 0)
    await s.tick()
    expect([...new Set(leased)].sort()).toEqual(h.envs.map((e) => e.id).sort())
    expect(runs).toBe(0) // nothing was due for the job itself
    for (const e of h.envs) {
      const due = h.rt.registry.dueAt(e.id)!
      // Nothing due: looked at again within the sweep, spread per env.
      expect(due).toBeGreaterThanOrEqual(h.clock.now() + SWEEP_MS / 2)
      expect(due).toBeLessThanOrEqual(h.clock.now() + SWEEP_MS)
    }
    leased.length = 0
    for (let i = 0; i < 3; i++) {
      h.clock.advance(60_000)
      await s.tick()
    }
    expect(leased).toEqual([])
    await s.stop()
  })

  it('records the earliest deadline; a write with an earlier one brings it forward at the next tick', async () => {
    const env = h.envs[0]!
    await h.rt.scheduler.tick()
    expect(h.rt.registry.dueAt(env.id)!).toBeGreaterThan(h.clock.now() + 60 * 60_000)

    // A sign-in that is abandoned unless it goes on: a deadline well before the sweep.
    const abandonAt = await startSignIn(env)
    await h.rt.scheduler.tick()
    expect(h.rt.registry.dueAt(env.id)).toBe(abandonAt)

    h.clock.advance(abandonAt - h.clock.now())
    await h.rt.scheduler.tick()
    expect(row<{ status: string }>('SELECT status FROM sign_ins')!.status).toBe('abandoned')
    expect(h.rt.registry.dueAt(env.id)!).toBeGreaterThan(h.clock.now() + 60 * 60_000)
  })

  it("a refresh's activity stamp leaves the due time alone unless it brings the abandonment forward", async () => {
    const env = h.envs[2]!
    await patchInstance(h, { session: { inactivity_timeout_seconds: 3600 } }, env)
    const { b, sid } = await signedIn(h, env)
    await h.rt.scheduler.tick()
    const changed = () => h.rt.pool.changedEnvs().includes(env.id)
    const refresh = async () =>
      expect((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).status).toBe(200)
    const abandonAt = () => row<{ at: number }>('SELECT abandon_at AS at FROM sessions', env)!.at
    expect(changed()).toBe(false)

    // The stamp moves the abandonment an hour past now: later than before, nothing to recompute.
    h.clock.advance(60_000)
    await refresh()
    expect(abandonAt()).toBe(h.clock.now() + 3_600_000)
    expect(changed()).toBe(false)

    // A shorter timeout: the next stamp brings the deadline forward, and the tick records it.
    await patchInstance(h, { session: { inactivity_timeout_seconds: 600 } }, env)
    await h.rt.scheduler.tick()
    h.clock.advance(60_000)
    await refresh()
    expect(abandonAt()).toBe(h.clock.now() + 600_000)
    expect(changed()).toBe(true)
    await h.rt.scheduler.tick()
    expect(h.rt.registry.dueAt(env.id)).toBe(abandonAt())
  })

  it('an env whose handle closes records its new deadlines then, without a tick', async () => {
    const env = h.envs[1]!
    await h.rt.scheduler.tick()
    expect(h.rt.registry.dueAt(env.id)!).toBeGreaterThan(h.clock.now() + 60 * 60_000)
    const abandonAt = await startSignIn(env)
    h.rt.pool.evict(env.id)
    expect(h.rt.registry.dueAt(env.id)).toBe(abandonAt)
  })

  it('gives the event loop a turn between envs', async () => {
    let turns = 0
    let ticking = true
    const spin = () => {
      turns++
      if (ticking) setImmediate(spin)
    }
    const seen: number[] = []
    const s = schedulerWith([{ name: 'note', run: () => void seen.push(turns) }])
    for (const e of h.envs) h.rt.registry.setDue(e.id, 0)
    setImmediate(spin)
    await s.tick()
    ticking = false
    expect(seen).toHaveLength(h.envs.length)
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!)
    await s.stop()
  })
})

describe('opening an env', () => {
  it('skips the migrator when every migration is recorded, and migrates when one is missing', () => {
    const env = h.envs[2]!
    const file = envDbFile(envDir(h.dir, env.id))
    const db = new Database(file)
    expect(isMigrated(db, 'env')).toBe(true)
    db.run('DELETE FROM __drizzle_migrations WHERE rowid = (SELECT max(rowid) FROM __drizzle_migrations)')
    expect(isMigrated(db, 'env')).toBe(false)
    db.close()
    const fresh = new Database(':memory:')
    expect(isMigrated(fresh, 'env')).toBe(false)
    fresh.close()
  })
})
