import type { Database } from 'bun:sqlite'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { MigrationMeta } from 'drizzle-orm/migrator'

export type MigrationSet = 'env' | 'registry'

interface Journal {
  entries: Array<{ idx: number; when: number; tag: string; breakpoints: boolean }>
}

/** Filled by the compiled binary's entry (scripts/build.ts), which embeds the migration files. */
export interface EmbeddedMigrations {
  journal: string
  files: Record<string, string>
}
declare global {
  var __AUTHN_EMBEDDED_MIGRATIONS__: Record<MigrationSet, EmbeddedMigrations> | undefined
}

export const migrationsFolder = (set: MigrationSet) =>
  fileURLToPath(new URL(`../../migrations/${set}/`, import.meta.url))

function fromFolder(set: MigrationSet): EmbeddedMigrations {
  const dir = migrationsFolder(set)
  const journalPath = `${dir}meta/_journal.json`
  if (!existsSync(journalPath)) throw new Error(`missing ${journalPath}: migrations are not installed`)
  const journal = readFileSync(journalPath, 'utf8')
  const files: Record<string, string> = {}
  for (const e of (JSON.parse(journal) as Journal).entries)
    files[e.tag] = readFileSync(`${dir}${e.tag}.sql`, 'utf8')
  return { journal, files }
}

const cache = new Map<MigrationSet, MigrationMeta[]>()

/**
 * The same parse as drizzle's readMigrationFiles, but from memory: read once per process
 * rather than on every env open, and available inside a compiled binary.
 */
export function loadMigrations(set: MigrationSet): MigrationMeta[] {
  const hit = cache.get(set)
  if (hit) return hit
  const source = globalThis.__AUTHN_EMBEDDED_MIGRATIONS__?.[set] ?? fromFolder(set)
  const journal = JSON.parse(source.journal) as Journal
  const metas = journal.entries.map((e) => {
    const query = source.files[e.tag]
    if (query === undefined) throw new Error(`migration ${set}/${e.tag}.sql is missing`)
    return {
      sql: query.split('--> statement-breakpoint'),
      bps: e.breakpoints,
      folderMillis: e.when,
      hash: createHash('sha256').update(query).digest('hex'),
    }
  })
  cache.set(set, metas)
  return metas
}

interface MigratableDb {
  dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): void }
  session: unknown
}

/**
 * Applies pending migrations. Foreign keys are switched off *outside* the migrator's BEGIN
 * (inside it the pragma is a no-op and a table rebuild would cascade-delete child rows), then
 * checked. The applied count must equal the journal's: drizzle skips a migration whose
 * timestamp is older than the newest applied one, and we would rather refuse to open.
 */
export function migrate(client: Database, db: unknown, set: MigrationSet) {
  const migrations = loadMigrations(set)
  client.exec('PRAGMA foreign_keys = OFF')
  try {
    ;(db as MigratableDb).dialect.migrate(migrations, (db as MigratableDb).session, {})
    const broken = client.query('PRAGMA foreign_key_check').all()
    if (broken.length)
      throw new Error(`foreign_key_check failed after migrating: ${JSON.stringify(broken[0])}`)
    const applied = client.query('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }
    if (applied.n !== migrations.length) {
      throw new Error(`${applied.n} migrations applied but the ${set} journal has ${migrations.length}`)
    }
  } finally {
    client.exec('PRAGMA foreign_keys = ON')
  }
}
