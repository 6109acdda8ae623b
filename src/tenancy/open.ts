import { Database } from 'bun:sqlite'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { loadMigrations, type MigrationSet, migrate } from '../db/migrations'

import type { EnvDb } from '../db/types'
import { contentTriggersInPlace, installContentTriggers } from './content-version'

export type { EnvDb, EnvTx } from '../db/types'

/**
 * drizzle's bun-sqlite driver prepares a new statement for every query and never finalizes it,
 * so a closed handle lingers (its file, WAL and shared memory stay open) until garbage
 * collection: thousands of envs cycling through the pool run out of file descriptors. Routing
 * its prepares through bun:sqlite's statement cache finalizes them on close (and skips
 * re-preparing the same SQL). Statements run to completion synchronously, so sharing one
 * cached statement between calls is safe.
 */
function cacheStatements(client: Database) {
  client.prepare = ((query: string) => client.query(query)) as typeof client.prepare
}

/**
 * SQLite's page caches together, over every open handle of the process (a process-wide
 * setting): with thousands of envs open, each handle's own cache (2 MB at most) is no bound;
 * past this SQLite recycles cached pages before it allocates more.
 */
export const SQLITE_SOFT_HEAP_LIMIT = 256 * 1024 * 1024

function applyPragmas(client: Database) {
  client.exec(`PRAGMA soft_heap_limit = ${SQLITE_SOFT_HEAP_LIMIT}`)
  client.exec('PRAGMA busy_timeout = 5000')
  client.exec('PRAGMA journal_mode = WAL')
  client.exec('PRAGMA synchronous = NORMAL')
}

/**
 * True when every migration of the set is recorded as applied: the count and the newest
 * timestamp match the journal. One read of a tiny table, where a full `migrate` runs an empty
 * transaction and `PRAGMA foreign_key_check` over every table on each open of an evicted env.
 */
export function isMigrated(client: Database, set: MigrationSet): boolean {
  const migrations = loadMigrations(set)
  let row: { n: number; last: number | null } | null
  try {
    row = client
      .query<{ n: number; last: number | null }, []>(
        'SELECT count(*) AS n, max(CAST(created_at AS INTEGER)) AS last FROM __drizzle_migrations',
      )
      .get()
  } catch {
    return false // no migrations table: a new file
  }
  return row?.n === migrations.length && row.last === (migrations.at(-1)?.folderMillis ?? null)
}

function open(file: string, set: MigrationSet) {
  const client = new Database(file, { create: true, strict: true })
  try {
    applyPragmas(client)
    cacheStatements(client)
    const db = drizzle({ client })
    const migrated = isMigrated(client, set)
    if (migrated) client.exec('PRAGMA foreign_keys = ON')
    else migrate(client, db, set)
    // From the schema as it is now: a migration may have added a table or a column.
    if (set === 'env' && (!migrated || !contentTriggersInPlace(client))) installContentTriggers(client)
    return { client, db }
  } catch (err) {
    client.close()
    throw err
  }
}

/** Opens one env file and brings its schema up to date (a quick check when it already is). */
export function openEnvDatabase(file: string): { client: Database; db: EnvDb } {
  return open(file, 'env')
}

export function openRegistryDatabase(file: string) {
  return open(file, 'registry')
}
