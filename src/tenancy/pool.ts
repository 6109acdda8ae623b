import { constants, type Database } from 'bun:sqlite'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openKeyStore, readDataKey } from '../crypto/keys'
import type { PasswordHasher } from '../crypto/passwords'
import type { Clock } from '../lib/clock'
import type { Delivery } from '../lib/delivery'
import { createTxtResolver, type TxtResolver } from '../lib/dns'
import { createEffects, type Effects } from '../lib/effects'
import { AppError } from '../lib/errors'
import type { Logger } from '../log'
import { contentVersionReader } from './content-version'
import type { EnvContext, EnvType } from './context'
import { dataVersionWatcher } from './data-version'
import { type EnvDb, openEnvDatabase } from './open'
import { envDbFile, envDir, envKeysDir } from './paths'
import { rememberedValues } from './remembered'
import { defaultSettings, withDefaults } from './settings'

export interface Lease {
  readonly ctx: EnvContext
  release(): void
}

export interface LeaseOptions {
  /**
   * Background work on an env that is not open: open a handle outside the LRU and close it on
   * release (an open env's handle is shared as usual).
   */
  transient?: boolean
}

export interface EnvPool {
  /**
   * Opens (and migrates) the env on first use; null when no such env folder exists. Throws
   * EnvUnavailableError when the env's folder is there but cannot be served.
   */
  lease(envId: string, opts?: LeaseOptions): Lease | null
  /** Runs fn with a leased env and releases it, also when fn throws or rejects. */
  use<T>(envId: string, fn: (ctx: EnvContext) => T, opts?: LeaseOptions): T
  /**
   * Closes the env's handle once its in-flight requests finish (env deleted or replaced), and
   * forgets that it was unavailable.
   */
  evict(envId: string): void
  openEnvs(): string[]
  /** Open envs this process has written to since markSeen (their deadlines may have moved). */
  changedEnvs(): string[]
  markSeen(envId: string): void
  /** Envs that failed to open, why, and when they are tried again. */
  unavailable(): Array<{ id: string; reason: string; retryAt: number }>
  /** Handles opened (LRU and background ones) and pushed out of the LRU, since start. */
  stats(): { opens: number; evictions: number }
  closeAll(): void
}

/** An env whose folder is there but cannot be served: a 503 `environment_unavailable`. */
export class EnvUnavailableError extends AppError {
  constructor(
    readonly envId: string,
    readonly reason: string,
    /** When the pool tries to open it again (sooner if its folder changes). */
    readonly retryAt: number,
    retryInMs: number,
  ) {
    super(
      503,
      [
        {
          code: 'environment_unavailable',
          message: 'environment unavailable',
          long_message: 'This environment cannot be served right now. Try again later.',
        },
      ],
      { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))) } },
    )
    this.name = 'EnvUnavailableError'
  }
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
  /** Contexts' offThreadSigning (default true): whether this process has cores to spare. */
  offThreadSigning?: boolean
  /** The port local (`*.localhost`) frontend hosts are served on (known once bound). */
  localPort: () => number
  /** Runs a job for an env soon (the scheduler's kick); contexts expose it as `ctx.kick`. */
  kick?: (envId: string, job: string) => void
  /** Where contexts count their post-commit effects; by default a tracker of this pool's own. */
  effects?: Effects
  /**
   * Called with a handle about to be closed (evicted from the LRU, or at shutdown); `changed`
   * when this process wrote to the env since markSeen. The scheduler records its deadlines.
   */
  beforeClose?: (ctx: EnvContext, changed: boolean) => void
}

/** Rows this process wrote through a handle, against what the scheduler has looked at. */
interface Writes {
  /** The connection's total_changes(). */
  changes: () => number
  /** changes() when the scheduler last computed the env's due time. */
  seen: number
}

interface Entry {
  ctx: EnvContext
  inFlight: number
  evicted: boolean
  writes: Writes
}

export const isLocalHost = (host: string) => host === 'localhost' || host.endsWith('.localhost')

/** https for real hosts; local development hosts are served over http on the server's port. */
export const frontendUrlOf = (host: string, localPort: number) =>
  isLocalHost(host) ? `http://${host}${localPort === 80 ? '' : `:${localPort}`}` : `https://${host}`

function buildContext(deps: PoolDeps & { effects: Effects }, envId: string): EnvContext {
  const dir = envDir(deps.dataDir, envId)
  const { client, db } = openEnvDatabase(envDbFile(dir))
  try {
    // Thousands of envs cycle through the pool: keep the -wal and -shm files when a handle
    // closes (SQLite checkpoints and resets the WAL either way), so a cold open does not create
    // two files and a close unlink them each time.
    client.fileControl(constants.SQLITE_FCNTL_PERSIST_WAL, 1)
    const row = client
      .query<{ id: string; type: EnvType }, []>('SELECT id, type FROM environment LIMIT 1')
      .get()
    if (!row) throw new Error(`env ${envId} has no environment row`)
    if (row.id !== envId) {
      throw new Error(
        `the folder ${envId} holds the environment ${row.id}: the folder name must be the env id`,
      )
    }
    return createContext({ ...deps, id: envId, type: row.type, dir, client, db })
  } catch (err) {
    client.close()
    throw err
  }
}

/** What closing a handle must release besides its connection. */
const closers = new WeakMap<EnvContext, () => void>()
/** Each handle's write count, shared by its context (writeOne) and its pool entry. */
const writesOf = new WeakMap<EnvContext, Writes>()

function createContext(
  p: PoolDeps & { effects: Effects; id: string; type: EnvType; dir: string; client: Database; db: EnvDb },
): EnvContext {
  const statements = new Map<string, unknown>()
  const readSettings = p.client.query<{ settings: string }, []>('SELECT settings FROM environment LIMIT 1')
  // Read before the watcher opens its file, so a missing key does not leave a descriptor open.
  const keys = openKeyStore(envKeysDir(p.dir))
  const dataKey = readDataKey(envKeysDir(p.dir))
  const watcher = dataVersionWatcher(p.client, p.clock, `${envDbFile(p.dir)}-shm`)
  const caches = new Map<string, unknown>()
  const readTx = p.client.transaction((fn: () => unknown) => fn())
  // Moves when the watcher sees another process's commit that changed the env's content (not
  // only activity stamps, which other workers make all the time): cached() and remember() both
  // follow it.
  const contentVersion = contentVersionReader(p.client)
  let seenContent = contentVersion()
  let crossProcessEpoch = 0
  const crossProcess = () => {
    if (watcher.changed()) {
      // Inside a transaction the count may hold this connection's own uncommitted writes, which
      // a rollback takes back: then it is not kept, and the change is taken for content.
      const v = p.client.inTransaction ? -1 : contentVersion()
      if (v === -1 || v !== seenContent) {
        seenContent = v
        crossProcessEpoch++
        caches.clear()
      }
    }
    return crossProcessEpoch
  }
  const totalChanges = p.client.query<{ n: number }, []>('SELECT total_changes() AS n')
  const changes = () => totalChanges.get()?.n ?? 0
  const writes: Writes = { changes, seen: changes() }
  const remembered = rememberedValues(p.id, p.client, changes, crossProcess)
  const cached = <T>(name: string, load: () => T): T => {
    crossProcess()
    if (caches.has(name)) return caches.get(name) as T
    const value = load()
    caches.set(name, value)
    return value
  }
  const ctx: EnvContext = {
    id: p.id,
    type: p.type,
    dir: p.dir,
    db: p.db,
    client: p.client,
    keys,
    dataKey,
    clock: p.clock,
    log: p.log.child({ env_id: p.id }),
    passwords: p.passwords.forEnv(p.id),
    offThreadSigning: p.offThreadSigning ?? true,
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
    read: <T>(fn: () => T): T => readTx(fn) as T,
    remember: remembered.get,
    writeOne<T>(space: string, key: string, write: () => T, opts?: { noEarlierDeadline?: boolean }): T {
      const before = changes()
      const result = remembered.writeOne(space, key, write)
      // The scheduler had seen every write before this one, and this one brings no deadline
      // forward: its due time still holds (each tab's activity stamp would otherwise have it
      // recompute the env's due time at every tick).
      if (opts?.noEarlierDeadline && writes.seen === before && !p.client.inTransaction)
        writes.seen = changes()
      return result
    },
  }
  writesOf.set(ctx, writes)
  closers.set(ctx, () => watcher.close())
  return ctx
}

/** Waits before an env that failed to open is tried again (unless its folder changes first). */
export const UNAVAILABLE_RETRY_MS = [5_000, 30_000, 2 * 60_000, 10 * 60_000] as const

interface Broken {
  reason: string
  failures: number
  retryAt: number
  fingerprint: string
}

/** What of an env folder we look at to notice that someone repaired it (or broke it otherwise). */
function fingerprint(dir: string): string {
  return [dir, envDbFile(dir), `${envDbFile(dir)}-wal`, envKeysDir(dir), join(envKeysDir(dir), 'data.key')]
    .map((path) => {
      try {
        const st = statSync(path)
        return `${st.ino}:${st.mtimeMs}:${st.size}`
      } catch {
        return '-'
      }
    })
    .join('|')
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * LRU of open env handles. Opening is synchronous (bun:sqlite), so two opens of one env never
 * interleave in this process. An evicted handle closes only after its last lease is released.
 *
 * An env that cannot be opened (its keys are missing, its database is corrupt, a migration
 * fails, its folder name is not its id) is unavailable: lease() throws EnvUnavailableError (a
 * 503 `environment_unavailable`) without trying again until the folder changes or a backoff
 * (UNAVAILABLE_RETRY_MS) passes, and every other env is served as usual.
 */
export function createEnvPool(poolDeps: PoolDeps): EnvPool {
  const deps = { ...poolDeps, effects: poolDeps.effects ?? createEffects() }
  const entries = new Map<string, Entry>()
  const broken = new Map<string, Broken>()
  const transients = new Map<string, Entry>()
  const counts = { opens: 0, evictions: 0 }
  let closingAll = false

  function close(id: string, entry: Entry) {
    try {
      deps.beforeClose?.(entry.ctx, entry.writes.changes() !== entry.writes.seen)
    } catch (err) {
      deps.log.error({ err, env_id: id }, 'before closing env handle')
    }
    try {
      // At shutdown the WAL files go with the last handle, leaving one file per env behind.
      if (closingAll) entry.ctx.client.fileControl(constants.SQLITE_FCNTL_PERSIST_WAL, 0)
      closers.get(entry.ctx)?.()
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

  function unavailable(envId: string, b: Broken): EnvUnavailableError {
    return new EnvUnavailableError(envId, b.reason, b.retryAt, Math.max(0, b.retryAt - deps.clock.now()))
  }

  /** Opens the env, or answers why not (remembered, so a broken env costs a few stats per lease). */
  function open(envId: string): Entry | null {
    const dir = envDir(deps.dataDir, envId)
    const known = broken.get(envId)
    if (known && deps.clock.now() < known.retryAt && fingerprint(dir) === known.fingerprint) {
      throw unavailable(envId, known)
    }
    // No folder: no such env. A folder without its database is an env that lost it.
    if (!existsSync(dir)) return null
    try {
      if (!existsSync(envDbFile(dir))) throw new Error(`${envDbFile(dir)} is missing`)
      const ctx = buildContext(deps, envId)
      counts.opens++
      if (known) {
        broken.delete(envId)
        deps.log.info({ env_id: envId }, 'environment available again')
      }
      return { ctx, inFlight: 0, evicted: false, writes: writesOf.get(ctx)! }
    } catch (err) {
      const failures = (known?.failures ?? 0) + 1
      const wait = UNAVAILABLE_RETRY_MS[Math.min(failures, UNAVAILABLE_RETRY_MS.length) - 1]!
      const b: Broken = {
        reason: describe(err),
        failures,
        retryAt: deps.clock.now() + wait,
        fingerprint: fingerprint(dir),
      }
      broken.set(envId, b)
      // Logged when it breaks and when the reason changes, not on every retry.
      if (!known || known.reason !== b.reason) {
        deps.log.error({ err, env_id: envId, retry_in_ms: wait }, 'environment unavailable')
      }
      throw unavailable(envId, b)
    }
  }

  function leaseOf(envId: string, entry: Entry, onDone?: () => void): Lease {
    entry.inFlight++
    let released = false
    return {
      ctx: entry.ctx,
      release() {
        if (released) return
        released = true
        entry.inFlight--
        if (entry.evicted && entry.inFlight === 0) {
          close(envId, entry)
          onDone?.()
        }
      },
    }
  }

  const pool: EnvPool = {
    lease(envId, opts) {
      const entry = entries.get(envId)
      if (entry) {
        entries.delete(envId)
        entries.set(envId, entry)
        return leaseOf(envId, entry)
      }
      const background = transients.get(envId)
      if (background && opts?.transient) return leaseOf(envId, background, () => transients.delete(envId))
      const opened = open(envId)
      if (!opened) return null
      if (opts?.transient) {
        // Background work: a handle of its own, closed on release, so a pass over thousands of
        // envs does not push the envs requests use out of the LRU.
        opened.evicted = true
        transients.set(envId, opened)
        return leaseOf(envId, opened, () => transients.delete(envId))
      }
      entries.set(envId, opened)
      while (entries.size > deps.maxOpen) {
        const [oldId, oldest] = entries.entries().next().value as [string, Entry]
        counts.evictions++
        evictEntry(oldId, oldest)
      }
      return leaseOf(envId, opened)
    },
    use(envId, fn, opts) {
      const lease = pool.lease(envId, opts)
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
      broken.delete(envId)
      const entry = entries.get(envId)
      if (entry) evictEntry(envId, entry)
    },
    openEnvs: () => [...entries.keys()],
    changedEnvs: () => [...entries].filter(([, e]) => e.writes.changes() !== e.writes.seen).map(([id]) => id),
    markSeen(envId) {
      const entry = entries.get(envId) ?? transients.get(envId)
      if (entry) entry.writes.seen = entry.writes.changes()
    },
    unavailable: () => [...broken].map(([id, b]) => ({ id, reason: b.reason, retryAt: b.retryAt })),
    stats: () => ({ ...counts }),
    closeAll() {
      closingAll = true
      for (const [id, entry] of [...entries]) evictEntry(id, entry)
    },
  }
  return pool
}
