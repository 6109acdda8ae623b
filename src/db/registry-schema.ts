import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

// The registry is only an index over the env folders; it can be deleted and rebuilt.
export const registryEnvs = sqliteTable(
  'envs',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    indexedAt: integer('indexed_at').notNull(),
    /**
     * When the env next has background work due (Unix ms); 0 (also for rows indexed before this
     * column existed): due now; null for a problem row (never due).
     * The scheduler opens only envs whose time has come.
     */
    nextDueAt: integer('next_due_at').default(0),
    /**
     * Why the folder is not served (e.g. its folder name is not the env id inside it); null
     * for an indexed env. Such a row has no hosts or keys: it only keeps `env list` honest.
     */
    problem: text('problem'),
  },
  (t) => [index('envs_next_due').on(t.nextDueAt)],
)

export const registryHosts = sqliteTable('hosts', {
  host: text('host').primaryKey(),
  envId: text('env_id').notNull(),
})

export const registryKeys = sqliteTable('secret_keys', {
  hash: text('hash').primaryKey(),
  envId: text('env_id').notNull(),
})
