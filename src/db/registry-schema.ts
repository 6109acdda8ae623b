import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

// The registry is only an index over the env folders; it can be deleted and rebuilt.
export const registryEnvs = sqliteTable('envs', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  type: text('type').notNull(),
  indexedAt: integer('indexed_at').notNull(),
})

export const registryHosts = sqliteTable('hosts', {
  host: text('host').primaryKey(),
  envId: text('env_id').notNull(),
})

export const registryKeys = sqliteTable('secret_keys', {
  hash: text('hash').primaryKey(),
  envId: text('env_id').notNull(),
})
