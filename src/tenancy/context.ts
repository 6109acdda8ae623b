import type { Database } from 'bun:sqlite'
import type { KeyStore } from '../crypto/keys'
import type { PasswordHasher } from '../crypto/passwords'
import type { DataKey } from '../crypto/seal'
import type { Clock } from '../lib/clock'
import type { Delivery } from '../lib/delivery'
import type { TxtResolver } from '../lib/dns'
import type { Effects } from '../lib/effects'
import type { Logger } from '../log'
import type { EnvDb } from './open'
import type { InstanceSettings } from './settings'

export type EnvType = 'development' | 'production'

/**
 * Everything a service needs to act on one env. It reaches code only as the first parameter
 * of a service: there is no module-level database.
 */
export interface EnvContext {
  readonly id: string
  readonly type: EnvType
  readonly dir: string
  readonly db: EnvDb
  readonly client: Database
  readonly keys: KeyStore
  readonly dataKey: DataKey
  readonly clock: Clock
  readonly log: Logger
  readonly passwords: PasswordHasher
  /**
   * Whether session tokens may be signed on Bun's worker threads (while no password is being
   * hashed there): only in a process with cores to spare, i.e. fewer server workers than CPUs.
   */
  readonly offThreadSigning: boolean
  readonly delivery: Delivery
  /** Post-commit effects in flight (shared by every env of the process; see withTx). */
  readonly effects: Effects
  /** DNS lookups (organization domain verification). */
  readonly dns: TxtResolver
  /** Base URL of the env's Frontend API (its primary host), for links in emails. */
  frontendUrl(): string
  /**
   * Asks for a background job (e.g. `webhooks`) to run for this env right after the current
   * transaction commits, instead of at the next scheduler tick. A no-op without a scheduler.
   */
  kick(job: string): void
  /** The env's auth configuration, cached until this or another process writes it. */
  settings(): InstanceSettings
  /**
   * A value cached on this handle until another process commits to the env file (seen within
   * CROSS_PROCESS_STALENESS_MS) or this process calls invalidate() after its own write.
   */
  cached<T>(name: string, load: () => T): T
  invalidate(): void
  /**
   * A statement prepared once per handle. Hot paths use this: a drizzle query built per call
   * costs several times a prepared one.
   */
  prepared<T>(name: string, build: (db: EnvDb) => T): T
  /**
   * Runs `fn`'s reads in one read transaction: one WAL snapshot and one lock for all of them
   * (each statement on its own takes and drops the lock: three point reads cost about twice as
   * much apart). Inside a write transaction it runs as a savepoint of it.
   */
  read<T>(fn: () => T): T
  /**
   * A value derived from the env's rows, kept (frozen, shared by every caller) until anything
   * writes to the env: through this handle (seen exactly) or from another process (seen within
   * CROSS_PROCESS_STALENESS_MS, as cached() values are). For the hottest reads: a session's
   * refresh, a user's resource. Null is not kept; a kept value that does not `fit` the caller
   * is loaded again. Inside a transaction nothing is kept.
   */
  remember<T>(space: string, key: string, load: () => T | null, fits?: (value: T) => boolean): T | null
  /**
   * Runs `write`, which changes only what remember(space, key) holds (a session's activity
   * stamp), so the env's other remembered values stay. `noEarlierDeadline`: the write brings
   * none of the env's deadlines forward (it only moves one later), so the scheduler need not
   * compute the env's due time again for it.
   */
  writeOne<T>(space: string, key: string, write: () => T, opts?: { noEarlierDeadline?: boolean }): T
}
