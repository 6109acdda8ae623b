// Shared drizzle schema for the micro benchmark and the refresh mock.
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const sessions = sqliteTable('sessions', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull(),
  email: text('email').notNull(),
  scope: text('scope').notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  lastSeenAt: integer('last_seen_at'),
  userAgent: text('user_agent'),
})

export const DDL = `CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  user_agent TEXT
) WITHOUT ROWID`

// deterministic, opaque-looking 32-char session ids so that lua/refresh.lua can pick them without a file
export function sessionId(i: number): string {
  const h = new Bun.CryptoHasher('sha256').update(`session-${i}`).digest('base64url')
  return h.slice(0, 32)
}
