import type { Database } from 'bun:sqlite'
import { existsSync } from 'node:fs'
import { openKeyStore, readDataKey } from '../crypto/keys'
import type { PasswordHasher } from '../crypto/passwords'
import type { Clock } from '../lib/clock'
import type { Delivery } from '../lib/delivery'
import { createTxtResolver, type TxtResolver } from '../lib/dns'
import { createEffects, type Effects } from '../lib/effects'
import type { Logger } from '../log'
import type { EnvContext, EnvType } from './context'
import { dataVersionWatcher } from './data-version'
import { type EnvDb, openEnvDatabase } from './open'
import { envDbFile, envDir, envKeysDir } from './paths'
import { defaultSettings, withDefaults } from './settings'

export interface Lease {
  readonly ctx: EnvContext
  release(): void
}

export interface EnvPool {
  /** Opens (and migrates) the env on first use; null when no such env folder exists. */
  lease(envId: string): Lease | null
  /** Runs fn with a leased env and releases it, also when fn throws or rejects. */
  use<T>(envId: string, fn: (ctx: EnvContext) => T): T
  /** Closes the env's handle once its in-flight requests finish (env deleted or replaced). */
  evict(envId: string): void
  openEnvs(): string[]
  closeAll(): void
}

export interface PoolDeps {
  dataDir: string
  clock: Clock
  log: Logger
  passwords: PasswordHasher
  delivery: Delivery
  /** Defaults to the system's resolvers. */
  dns?: TxtResolver
  maxOpen: number
  /** The port local (`*.localhost`) frontend hosts are served on (known once bound). */
  localPort: () => number
  /** Runs a job for an env soon (the scheduler's kick); contexts expose it as `ctx.kick`. */
  kick?: (envId: string, job: string) => void
  /** Where contexts count their post-commit effects; by default a tracker of this pool's own. */
  effects?: Effects
}

interface Entry {
  ctx: EnvContext
  inFlight: number
  evicted: boolean
}

export const isLocalHost = (host: string) => host === 'localhost' || host.endsWith('.localhost')

/** https for real hosts; local development hosts are served over http on the server's port. */
export const frontendUrlOf = (host: string, localPort: number) =>
  isLocalHost(host) ? `http://${host}${localPort === 80 ? '' : `:${localPort}`}` : `https://${host}`

function buildContext(deps: PoolDeps & { effects: Effects }, envId: string): EnvContext {
  const dir = envDir(deps.dataDir, envId)
  const { client, db } = openEnvDatabase(envDbFile(dir))
  try {
    const row = client.query<{ type: EnvType }, []>('SELECT type FROM environment LIMIT 1').get()
    if (!row) throw new Error(`env ${envId} has no environment row`)
    return createContext({ ...deps, id: envId, type: row.type, dir, client, db })
  } catch (err) {
    client.close()
    throw err
  }
}

function createContext(
  p: PoolDeps & { effects: Effects; id: string; type: EnvType; dir: string; client: Database; db: EnvDb },
): EnvContext {
  const statements = new Map<string, unknown>()
  const readSettings = p.client.query<{ settings: string }, []>('SELECT settings FROM environment LIMIT 1')
  const watcher = dataVersionWatcher(p.client, p.clock)
  const caches = new Map<string, unknown>()
  const cached = <T>(name: string, load: () => T): T => {
    if (watcher.changed()) caches.clear()
    if (caches.has(name)) return caches.get(name) as T
    const value = load()
    caches.set(name, value)
    return value
  }
  return {
    id: p.id,
    type: p.type,
    dir: p.dir,
    db: p.db,
    client: p.client,
    keys: openKeyStore(envKeysDir(p.dir)),
    dataKey: readDataKey(envKeysDir(p.dir)),
    clock: p.clock,
    log: p.log.child({ env_id: p.id }),
    passwords: p.passwords.forEnv(p.id),
    delivery: p.delivery,
    effects: p.effects,
    dns: p.dns ?? createTxtResolver(),
    frontendUrl: () => {
      const host = cached('primaryHost', () => {
        const row = p.client
          .query<{ host: string }, []>('SELECT host FROM hosts ORDER BY created_at, host LIMIT 1')
          .get()
        return row?.host ?? 'localhost'
      })
      return frontendUrlOf(host, p.localPort())
    },
    kick: (job) => p.kick?.(p.id, job),
    settings: () =>
      cached('settings', () => {
        const row = readSettings.get()
        if (!row) throw new Error(`env ${p.id} has no settings`)
        const stored = JSON.parse(row.settings) as Record<string, unknown>
        const name = typeof stored.application_name === 'string' ? stored.application_name : 'authn'
        return withDefaults(stored, defaultSettings(name, 'RS256'))
      }),
    cached,
    invalidate: () => caches.clear(),
    prepared<T>(name: string, build: (db: EnvDb) => T): T {
      let stmt = statements.get(name) as T | undefined
      if (stmt === undefined) {
        stmt = build(p.db)
        statements.set(name, stmt)
      }
      return stmt
    },
  }
}

/**
 * LRU of open env handles. Opening is synchronous (bun:sqlite), so two opens of one env never
 * interleave in this process. An evicted handle closes only after its last lease is released.
 */
export function createEnvPool(poolDeps: PoolDeps): EnvPool {
  const deps = { ...poolDeps, effects: poolDeps.effects ?? createEffects() }
  const entries = new Map<string, Entry>()

  function close(id: string, entry: Entry) {
    try {
      entry.ctx.client.close()
    } catch (err) {
      deps.log.error({ err, env_id: id }, 'closing env handle failed')
    }
  }
  function evictEntry(id: string, entry: Entry) {
    entries.delete(id)
    entry.evicted = true
    if (entry.inFlight === 0) close(id, entry)
  }

  const pool: EnvPool = {
    lease(envId) {
      let entry = entries.get(envId)
      if (entry) {
        entries.delete(envId)
        entries.set(envId, entry)
      } else {
        if (!existsSync(envDbFile(envDir(deps.dataDir, envId)))) return null
        entry = { ctx: buildContext(deps, envId), inFlight: 0, evicted: false }
        entries.set(envId, entry)
        while (entries.size > deps.maxOpen) {
          const [oldId, oldest] = entries.entries().next().value as [string, Entry]
          evictEntry(oldId, oldest)
        }
      }
      const leased = entry
      leased.inFlight++
      let released = false
      return {
        ctx: leased.ctx,
        release() {
          if (released) return
          released = true
          leased.inFlight--
          if (leased.evicted && leased.inFlight === 0) close(envId, leased)
        },
      }
    },
    use(envId, fn) {
      const lease = pool.lease(envId)
      if (!lease) throw new Error(`no environment ${envId}`)
      let result: ReturnType<typeof fn>
      try {
        result = fn(lease.ctx)
      } catch (err) {
        lease.release()
        throw err
      }
      if (result instanceof Promise) {
        return result.finally(() => lease.release()) as ReturnType<typeof fn>
      }
      lease.release()
      return result
    },
    evict(envId) {
      const entry = entries.get(envId)
      if (entry) evictEntry(envId, entry)
    },
    openEnvs: () => [...entries.keys()],
    closeAll() {
      for (const [id, entry] of [...entries]) evictEntry(id, entry)
    },
  }
  return pool
}
