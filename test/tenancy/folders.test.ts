import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { loadMigrations } from '../../src/db/migrations'
import { newId } from '../../src/lib/ids'
import { envIndexFile } from '../../src/tenancy/env-index'
import { syncRegistry, type TenancyDeps } from '../../src/tenancy/environments'
import { envDir, registryFile } from '../../src/tenancy/paths'
import { type EnvPool, EnvUnavailableError } from '../../src/tenancy/pool'
import { isStale, openRegistry } from '../../src/tenancy/registry'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
})
afterAll(() => h.close())

/** The runtime's tenancy with a pool that records which envs the sync opens. */
function counting(): { tenancy: TenancyDeps; opened: string[] } {
  const opened: string[] = []
  const pool: EnvPool = {
    ...h.rt.pool,
    lease(id, opts) {
      opened.push(id)
      return h.rt.pool.lease(id, opts)
    },
    use(id, fn, opts) {
      opened.push(id)
      return h.rt.pool.use(id, fn, opts)
    },
  }
  return { tenancy: { ...h.rt.tenancy, pool }, opened }
}

describe('folder name = env id', () => {
  it('a copy of an env folder under another name is skipped and reported, and the index is not rebuilt for it', () => {
    const [a, b] = h.envs
    const copy = newId('environment')
    cpSync(envDir(h.dir, a!.id), envDir(h.dir, copy), { recursive: true })

    const first = counting()
    const result = syncRegistry(first.tenancy)
    // Only the folder the index did not know was opened.
    expect(first.opened).toEqual([copy])
    expect(result.envs).toBe(3)
    expect(result.problems).toHaveLength(1)
    expect(result.problems[0]!.id).toBe(copy)
    expect(result.problems[0]!.problem).toContain(`holds the environment ${a!.id}`)
    // Not served, and the env it copies still answers on its host.
    expect(h.rt.registry.list().map((e) => e.id)).toEqual([a!.id, b!.id].sort())
    expect(h.rt.registry.envForHost(a!.host)).toBe(a!.id)
    expect(h.rt.registry.problems()).toEqual(result.problems)

    // The next start opens the skipped folder again (it may have been fixed) and nothing else.
    const second = counting()
    expect(syncRegistry(second.tenancy).problems).toEqual(result.problems)
    expect(second.opened).toEqual([copy])

    // The pool refuses it too, whoever asks.
    expect(() => h.rt.pool.lease(copy)).toThrow(EnvUnavailableError)

    // Removed: its entry goes, and the index matches the folders again.
    rmSync(envDir(h.dir, copy), { recursive: true, force: true })
    h.rt.pool.evict(copy)
    expect(isStale(h.rt.registry, h.dir)).toBe(true)
    const third = counting()
    expect(syncRegistry(third.tenancy)).toEqual({ rebuilt: true, envs: 2, problems: [] })
    expect(third.opened).toEqual([])
    expect(isStale(h.rt.registry, h.dir)).toBe(false)
    expect(syncRegistry(third.tenancy).rebuilt).toBe(false)
  })

  it('a new folder is indexed alone; a forced sync reads every folder', () => {
    const { tenancy, opened } = counting()
    const moved = h.envs[1]!
    h.rt.registry.remove(moved.id)
    expect(h.rt.registry.envForHost(moved.host)).toBeNull()
    expect(syncRegistry(tenancy).rebuilt).toBe(true)
    expect(opened).toEqual([]) // read from its index file
    expect(h.rt.registry.envForHost(moved.host)).toBe(moved.id)
    h.rt.registry.remove(moved.id)
    rmSync(envIndexFile(envDir(h.dir, moved.id)))
    expect(syncRegistry(tenancy).rebuilt).toBe(true)
    expect(opened).toEqual([moved.id]) // no index file: its database
    expect(h.rt.registry.envForHost(moved.host)).toBe(moved.id)

    opened.length = 0
    expect(syncRegistry(tenancy, { force: true }).rebuilt).toBe(true)
    expect(opened.sort()).toEqual(h.envs.map((e) => e.id).sort())
  })
})

describe('the registry of an older version', () => {
  it('comes due at once after the upgrade: rows indexed before next_due_at existed are due', () => {
    const dir = mkdtempSync(join(tmpdir(), 'authn-registry-upgrade-'))
    try {
      const client = new Database(registryFile(dir), { create: true })
      const db = drizzle({ client })
      // The registry as the first release left it: only its first migration, one env indexed.
      const first = loadMigrations('registry').slice(0, 1)
      ;(db as unknown as { dialect: { migrate(m: unknown, s: unknown, c: object): void } }).dialect.migrate(
        first,
        (db as unknown as { session: unknown }).session,
        {},
      )
      client.run("INSERT INTO envs (id, name, type, indexed_at) VALUES ('env_old', 'Old', 'development', 1)")
      client.close()
      const registry = openRegistry(dir)
      expect(registry.dueEnvs(Date.now())).toEqual(['env_old'])
      expect(registry.dueAt('env_old')).toBe(0)
      registry.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
