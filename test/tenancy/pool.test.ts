import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { noDelivery } from '../../src/lib/delivery'
import { silentLogger } from '../../src/log'
import { createEnvPool } from '../../src/tenancy/pool'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}, {}] })
})
afterAll(() => h.close())

const poolOf = (maxOpen: number) =>
  createEnvPool({
    dataDir: h.dir,
    clock: h.clock,
    log: silentLogger,
    passwords: h.rt.passwords,
    delivery: noDelivery,
    maxOpen,
    localPort: () => 3000,
  })

describe('env pool', () => {
  it('opens lazily and keeps at most maxOpen handles, least recently used out first', () => {
    const pool = poolOf(2)
    const [a, b, c] = h.envs.map((e) => e.id)
    expect(pool.openEnvs()).toEqual([])
    pool.use(a!, () => {})
    pool.use(b!, () => {})
    pool.use(a!, () => {})
    pool.use(c!, () => {})
    expect(pool.openEnvs()).toEqual([a!, c!])
    pool.closeAll()
  })

  it('closes an evicted handle only after its in-flight leases are released', () => {
    const pool = poolOf(1)
    const [a, b] = h.envs.map((e) => e.id)
    const lease = pool.lease(a!)!
    pool.use(b!, () => {})
    expect(pool.openEnvs()).toEqual([b!])
    // Still usable: the request that holds it finishes normally.
    expect(lease.ctx.client.query('SELECT 1 AS one').get()).toEqual({ one: 1 })
    lease.release()
    expect(() => lease.ctx.client.query('SELECT 1').get()).toThrow()
    lease.release() // idempotent
    pool.closeAll()
  })

  it('answers null for an unknown env and releases a lease when the work throws', () => {
    const pool = poolOf(4)
    expect(pool.lease('env_01HZZZZZZZZZZZZZZZZZZZZZZZ')).toBeNull()
    expect(() =>
      pool.use(h.envs[0]!.id, () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    pool.evict(h.envs[0]!.id)
    expect(pool.openEnvs()).toEqual([])
    pool.closeAll()
  })
})
