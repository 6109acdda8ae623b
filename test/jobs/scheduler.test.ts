import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { KEY_RETENTION_MS, readKeys, rotateKeys } from '../../src/crypto/keys'
import { pruneKeysJob } from '../../src/jobs/prune-keys'
import { createScheduler, type Timers } from '../../src/jobs/scheduler'
import { silentLogger } from '../../src/log'
import { envKeysDir } from '../../src/tenancy/paths'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
})
afterAll(() => h.close())

/** Timers that wait for the test instead of the wall clock: fire() runs every pending wait. */
function manualTimers() {
  const waits = new Map<number, { fn: () => void; ms: number }>()
  let ids = 0
  const timers: Timers = {
    set(fn, ms) {
      waits.set(++ids, { fn, ms })
      return ids
    },
    clear: (id) => waits.delete(id as number),
  }
  return {
    timers,
    /** The intervals currently being waited for. */
    waits: () => [...waits.values()].map((w) => w.ms),
    fire() {
      const due = [...waits.values()]
      waits.clear()
      for (const w of due) w.fn()
    },
  }
}

describe('scheduler', () => {
  it('runs every job on every env, and a failing job does not stop the others', async () => {
    const seen: string[] = []
    const s = createScheduler({
      jobs: [
        {
          name: 'boom',
          run: () => {
            throw new Error('boom')
          },
        },
        {
          name: 'record',
          run: (ctx) => {
            seen.push(ctx.id)
          },
        },
      ],
      pool: h.rt.pool,
      registry: h.rt.registry,
      clock: h.clock,
      log: silentLogger,
      intervalMs: 60_000,
    })
    await s.tick()
    expect(seen.sort()).toEqual(h.envs.map((e) => e.id).sort())
    await s.stop()
  })

  it('ticks on its interval and stops cleanly', async () => {
    let runs = 0
    const t = manualTimers()
    const s = createScheduler({
      jobs: [
        {
          name: 'count',
          run: () => {
            runs++
          },
        },
      ],
      pool: h.rt.pool,
      registry: h.rt.registry,
      clock: h.clock,
      log: silentLogger,
      intervalMs: 50,
      timers: t.timers,
    })
    const envs = h.envs.length
    expect(t.waits()).toEqual([])
    s.start()
    expect(t.waits()).toEqual([50])
    expect(runs).toBe(0)

    // The interval passes: one pass over every env; the next wait starts once the pass is done.
    t.fire()
    expect(t.waits()).toEqual([])
    await s.idle()
    expect(runs).toBe(envs)
    expect(t.waits()).toEqual([50])
    t.fire()
    await s.idle()
    expect(runs).toBe(2 * envs)

    // Stopping cancels the pending wait ...
    await s.stop()
    expect(t.waits()).toEqual([])
    expect(runs).toBe(2 * envs)

    // ... and a pass in progress when stop() is called ends after the env it is working on,
    // without scheduling another.
    s.start()
    t.fire()
    await s.stop()
    expect(runs).toBe(2 * envs + 1)
    expect(t.waits()).toEqual([])
  })

  it('runs a kicked job for one env soon: coalesced while queued, once more if kicked while running', async () => {
    const runs: string[] = []
    let release: () => void = () => {}
    const blocked = Promise.withResolvers<void>()
    const s = createScheduler({
      jobs: [
        {
          name: 'kicked',
          run: async (ctx) => {
            runs.push(ctx.id)
            if (runs.length === 2) {
              blocked.resolve()
              await new Promise<void>((r) => (release = r))
            }
          },
        },
      ],
      pool: h.rt.pool,
      registry: h.rt.registry,
      clock: h.clock,
      log: silentLogger,
      intervalMs: 60_000,
    })
    const [a] = h.envs
    s.kick(a!.id, 'kicked')
    s.kick(a!.id, 'kicked')
    s.kick(a!.id, 'unknown-job')
    expect(runs).toEqual([]) // not synchronously: the caller's transaction commits first
    await s.idle()
    expect(runs).toEqual([a!.id])

    s.kick(a!.id, 'kicked')
    await blocked.promise
    expect(runs).toHaveLength(2) // running, blocked
    s.kick(a!.id, 'kicked')
    s.kick(a!.id, 'kicked')
    release()
    await s.idle()
    expect(runs).toHaveLength(3)

    await s.stop()
    s.kick(a!.id, 'kicked')
    await s.idle()
    expect(runs).toHaveLength(3)
  })

  it('prunes signing keys past their retention', async () => {
    const dir = h.ctx((ctx) => envKeysDir(ctx.dir))
    const old = readKeys(dir)[0]!.kid
    const jwksUrl = `https://${h.env.host}/.well-known/jwks.json`
    const tagBefore = (await h.request(jwksUrl)).headers.get('etag')
    await rotateKeys(dir, h.clock.now(), { immediate: true })
    const s = createScheduler({
      jobs: [pruneKeysJob],
      pool: h.rt.pool,
      registry: h.rt.registry,
      clock: h.clock,
      log: silentLogger,
      intervalMs: 60_000,
    })
    await s.tick()
    expect(readKeys(dir).map((k) => k.kid)).toContain(old)
    h.clock.advance(KEY_RETENTION_MS + 1)
    await s.tick()
    expect(readKeys(dir).map((k) => k.kid)).not.toContain(old)
    const jwks = (await (await h.request(`https://${h.env.host}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>
    }
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).not.toContain(old)
    // A verifier revalidating the old document is told it changed.
    const revalidated = await h.request(jwksUrl, { headers: { 'if-none-match': tagBefore! } })
    expect(revalidated.status).toBe(200)
    expect(revalidated.headers.get('etag')).not.toBe(tagBefore)
  })
})
