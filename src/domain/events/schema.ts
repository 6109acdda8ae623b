import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Written in the same transaction as the change it describes; webhooks deliver from here. */
export const events = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('events_created').on(t.createdAt, t.id),
    index('events_type_created').on(t.type, t.createdAt, t.id),
  ],
)
