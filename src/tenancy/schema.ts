import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { InstanceSettings } from './settings'

/** The single row describing this env: the folder is the whole env, so its identity lives here. */
export const environment = sqliteTable('environment', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  type: text('type', { enum: ['development', 'production'] }).notNull(),
  settings: text('settings', { mode: 'json' }).$type<InstanceSettings>().notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/** Frontend hosts this env answers on (indexed into the registry). */
export const hosts = sqliteTable('hosts', {
  host: text('host').primaryKey(),
  createdAt: integer('created_at').notNull(),
})

/** Secret keys are stored only as SHA-256 of the key; `hint` is the last four characters. */
export const secretKeys = sqliteTable(
  'secret_keys',
  {
    id: text('id').primaryKey(),
    hash: text('hash').notNull().unique(),
    hint: text('hint').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('secret_keys_created').on(t.createdAt, t.id)],
)

/**
 * One row counting the env's writes, kept by triggers on every table (src/tenancy/content-version.ts)
 * except a session's activity stamp: another process tells from it whether what it remembers
 * of the env still holds.
 */
export const contentVersion = sqliteTable('content_version', {
  id: integer('id').primaryKey(),
  version: integer('version').notNull(),
})
