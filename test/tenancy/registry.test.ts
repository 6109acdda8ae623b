import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { sha256Hex } from '../../src/crypto/secrets'
import { noDelivery } from '../../src/lib/delivery'
import { silentLogger } from '../../src/log'
import { CROSS_PROCESS_STALENESS_MS } from '../../src/tenancy/data-version'
import {
  createEnvironment,
  deleteEnvironment,
  EnvironmentError,
  syncRegistry,
} from '../../src/tenancy/environments'
import { registryFile } from '../../src/tenancy/paths'
import { createEnvPool } from '../../src/tenancy/pool'
import { isStale, openRegistry } from '../../src/tenancy/registry'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
})
afterAll(() => h.close())

describe('registry', () => {
  it('maps hosts and secret-key hashes to their env', () => {
    const [a, b] = h.envs
    expect(h.rt.registry.envForHost(a!.host)).toBe(a!.id)
    expect(h.rt.registry.envForKeyHash(sha256Hex(b!.secretKey))).toBe(b!.id)
    expect(h.rt.registry.envForHost('unknown.example.test')).toBeNull()
  })

  it('sees entries written by another connection (the CLI) despite its negative cache', async () => {
    expect(h.rt.registry.envForHost('late.example.test')).toBeNull()
    // A second registry handle on the same file plays the CLI process.
    const cli = openRegistry(h.dir)
    const pool = createEnvPool({
      dataDir: h.dir,
      clock: h.clock,
      log: silentLogger,
      passwords: h.rt.passwords,
      delivery: noDelivery,
      maxOpen: 4,
      localPort: () => 3000,
    })
    const cliTenancy = { ...h.rt.tenancy, registry: cli, pool }
    const env = await createEnvironment(cliTenancy, { name: 'Late', hosts: ['late.example.test'] })
    // Within the cross-process staleness bound the cached miss still answers ...
    h.clock.advance(CROSS_PROCESS_STALENESS_MS - 1)
    expect(h.rt.registry.envForHost('late.example.test')).toBeNull()
    // ... and once it has passed, the other connection's commit is seen.
    h.clock.advance(1)
    expect(h.rt.registry.envForHost('late.example.test')).toBe(env.id)
    deleteEnvironment(cliTenancy, env.id)
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(h.rt.registry.envForHost('late.example.test')).toBeNull()
    pool.closeAll()
    cli.close()
  })

  it('refuses a host another env already answers on', async () => {
    await expect(
      createEnvironment(h.rt.tenancy, { name: 'Dup', hosts: [h.envs[0]!.host] }),
    ).rejects.toBeInstanceOf(EnvironmentError)
    await expect(
      createEnvironment(h.rt.tenancy, { name: 'Bad', hosts: ['not a host'] }),
    ).rejects.toBeInstanceOf(EnvironmentError)
    await expect(
      createEnvironment(h.rt.tenancy, { name: 'Prod', type: 'production' }),
    ).rejects.toBeInstanceOf(EnvironmentError)
  })

  it('is rebuilt from the env folders when deleted', () => {
    h.rt.registry.close()
    rmSync(registryFile(h.dir))
    const fresh = openRegistry(h.dir)
    const tenancy = { ...h.rt.tenancy, registry: fresh }
    expect(isStale(fresh, h.dir)).toBe(true)
    expect(syncRegistry(tenancy)).toEqual({ rebuilt: true, envs: 2, problems: [] })
    expect(isStale(fresh, h.dir)).toBe(false)
    expect(syncRegistry(tenancy).rebuilt).toBe(false)
    for (const e of h.envs) {
      expect(fresh.envForHost(e.host)).toBe(e.id)
      expect(fresh.envForKeyHash(sha256Hex(e.secretKey))).toBe(e.id)
    }
    fresh.close()
    // Give the harness a working registry back for its close().
    ;(h.rt as { registry: unknown }).registry = openRegistry(h.dir)
  })
})
