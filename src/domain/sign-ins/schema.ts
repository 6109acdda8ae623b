import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const SIGN_IN_STATUSES = [
  'needs_identifier',
  'needs_first_factor',
  'needs_second_factor',
  'needs_new_password',
  'complete',
  'abandoned',
] as const
export type SignInStatus = (typeof SIGN_IN_STATUSES)[number]

export const signIns = sqliteTable(
  'sign_ins',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    status: text('status', { enum: SIGN_IN_STATUSES }).notNull(),
    identifier: text('identifier'),
    /** Null while the identifier is unknown (or hidden by enumeration protection). */
    userId: text('user_id'),
    firstFactorChallengeId: text('first_factor_challenge_id'),
    secondFactorChallengeId: text('second_factor_challenge_id'),
    firstFactorStrategy: text('first_factor_strategy'),
    createdSessionId: text('created_session_id'),
    abandonAt: integer('abandon_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('sign_ins_client').on(t.clientId), index('sign_ins_abandon').on(t.status, t.abandonAt)],
)

export type SignInRow = typeof signIns.$inferSelect
