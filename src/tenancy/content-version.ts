import type { Database } from 'bun:sqlite'

/**
 * Writes that change nothing another process remembers of the env except the row itself: a
 * session's activity stamp (issueSessionToken), which every signed-in tab makes every few
 * seconds. A process holding that session's row with an older stamp sees an earlier abandonment
 * deadline, so at worst it takes the full check, which reads the row again.
 */
const ACTIVITY_STAMPS: Readonly<Record<string, readonly string[]>> = {
  sessions: ['last_active_at', 'abandon_at'],
}

const TRIGGER_PREFIX = 'content_version_'
/** Tables with no triggers: the counter itself and the migrator's bookkeeping. */
const UNCOUNTED = ['content_version', '__drizzle_migrations']

const countedTables = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB 'sqlite_*'
  AND name NOT IN (${UNCOUNTED.map((t) => `'${t}'`).join(', ')})`

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * True when every counted table has its three triggers: one row read from the schema on each
 * open, so an env whose triggers were never made (a crash between the migration's commit and
 * theirs) or were dropped gets them back.
 */
export function contentTriggersInPlace(client: Database): boolean {
  const row = client
    .query<{ triggers: number; tables: number }, []>(
      `SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB '${TRIGGER_PREFIX}*') AS triggers,
        (SELECT count(*) FROM (${countedTables})) AS tables`,
    )
    .get()
  return !!row && row.triggers === 3 * row.tables
}

/**
 * (Re)makes, in one transaction, the triggers that count every insert, update and delete of
 * every table in `content_version`, from the schema as it is now: called after each migration,
 * so a new table or column is counted without anyone remembering to. An update of a table in
 * ACTIVITY_STAMPS counts only when it sets a column other than its stamps.
 */
export function installContentTriggers(client: Database) {
  client
    .transaction(() => {
      const old = client
        .query<{ name: string }, []>(
          `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB '${TRIGGER_PREFIX}*'`,
        )
        .all()
      for (const { name } of old) client.run(`DROP TRIGGER ${quote(name)}`)
      const bump = 'BEGIN UPDATE content_version SET version = version + 1; END'
      for (const { name } of client.query<{ name: string }, []>(countedTables).all()) {
        const stamps = ACTIVITY_STAMPS[name]
        let updateOf = ''
        if (stamps) {
          const columns = client
            .query<{ name: string }, [string]>('SELECT name FROM pragma_table_info(?)')
            .all(name)
            .map((c) => c.name)
            .filter((c) => !stamps.includes(c))
          updateOf = ` OF ${columns.map(quote).join(', ')}`
        }
        const t = quote(name)
        client.run(`CREATE TRIGGER ${quote(`${TRIGGER_PREFIX}${name}_insert`)} AFTER INSERT ON ${t} ${bump}`)
        client.run(
          `CREATE TRIGGER ${quote(`${TRIGGER_PREFIX}${name}_update`)} AFTER UPDATE${updateOf} ON ${t} ${bump}`,
        )
        client.run(`CREATE TRIGGER ${quote(`${TRIGGER_PREFIX}${name}_delete`)} AFTER DELETE ON ${t} ${bump}`)
      }
    })
    .immediate()
}

/** The env's content version: moves with every committed write except activity stamps. */
export function contentVersionReader(client: Database): () => number {
  const read = client.query<{ version: number }, []>('SELECT version FROM content_version WHERE id = 1')
  return () => read.get()?.version ?? 0
}
