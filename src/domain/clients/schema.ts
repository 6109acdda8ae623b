import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * A device (browser or native app). Its token carries the id and a rotating secret whose hash
 * is kept here; the secret changes on every sign-in, so an old copy of the cookie stops working.
 */
export const clients = sqliteTable(
  'clients',
  {
    id: text('id').primaryKey(),
    rotatingTokenHash: text('rotating_token_hash').notNull(),
    signInId: text('sign_in_id'),
    signUpId: text('sign_up_id'),
    lastActiveSessionId: text('last_active_session_id'),
    lastAuthenticationStrategy: text('last_authentication_strategy'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('clients_created').on(t.createdAt, t.id)],
)

export type ClientRow = typeof clients.$inferSelect
