import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { users } from '../users/schema'

/** One authenticator per user; the secret is sealed with the env's data key. */
export const totpFactors = sqliteTable('totp_factors', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretSealed: text('secret_sealed').notNull(),
  verified: integer('verified', { mode: 'boolean' }).notNull(),
  /** The last accepted time step: a code is accepted once (RFC 6238 §5.2). */
  lastTimeStep: integer('last_time_step'),
  createdAt: integer('created_at').notNull(),
  verifiedAt: integer('verified_at'),
})

/** Single-use recovery codes, stored as SHA-256. */
export const backupCodes = sqliteTable(
  'backup_codes',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('backup_codes_user').on(t.userId)],
)

export type TotpFactorRow = typeof totpFactors.$inferSelect
