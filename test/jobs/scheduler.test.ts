import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { KEY_RETENTION_MS, readKeys, rotateKeys } from '../../src/crypto/keys'
import { pruneKeysJob } from '../../src/jobs/prune-keys'
import { createScheduler } from '../../src/jobs/scheduler'
import { silentLogger } from '../../src/log'
import { envKeysDir } from '../../src/tenancy/paths'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
})
afterAll(() => h.close())

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
    })
    s.start()
    await Bun.sleep(180)
    await s.stop()
    const after = runs
    expect(after).toBeGreaterThanOrEqual(2)
    await Bun.sleep(120)
    expect(runs).toBe(after)
  })

  it('runs a kicked job for one env soon: coalesced while queued, once more if kicked while running', async () => {
    const runs: string[] = []
    let release: () => void = () => {}
    const s = createScheduler({
      jobs: [
        {
          name: 'kicked',
          run: async (ctx) => {
            runs.push(ctx.id)
            if (runs.length === 2) await new Promise<void>((r) => (release = r))
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
    await Bun.sleep(5)
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
  })
})
