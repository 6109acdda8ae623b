import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const SESSION_STATUSES = [
  'active',
  'pending',
  'ended',
  'removed',
  'revoked',
  'expired',
  'abandoned',
] as const
export type SessionStatus = (typeof SESSION_STATUSES)[number]

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    userId: text('user_id').notNull(),
    status: text('status', { enum: SESSION_STATUSES }).notNull(),
    /** Open tasks (e.g. `setup-mfa`); a session with tasks is `pending`. */
    tasks: text('tasks', { mode: 'json' }).$type<string[]>().notNull(),
    lastActiveAt: integer('last_active_at').notNull(),
    /** Absolute end (max lifetime); null when the instance turns it off. */
    expireAt: integer('expire_at'),
    /** Inactivity deadline, pushed by each token refresh; null when off. */
    abandonAt: integer('abandon_at'),
    firstFactorVerifiedAt: integer('first_factor_verified_at').notNull(),
    secondFactorVerifiedAt: integer('second_factor_verified_at'),
    lastActiveOrganizationId: text('last_active_organization_id'),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    endedAt: integer('ended_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('sessions_client').on(t.clientId, t.createdAt),
    index('sessions_user').on(t.userId, t.createdAt, t.id),
    index('sessions_created').on(t.createdAt, t.id),
    index('sessions_status').on(t.status, t.expireAt),
    index('sessions_abandon').on(t.status, t.abandonAt),
  ],
)

export type SessionRow = typeof sessions.$inferSelect

/** A step-up of an existing session (`POST /v1/client/sessions/{sid}/verify`). */
export const reverifications = sqliteTable(
  'reverifications',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id').notNull(),
    level: text('level', { enum: ['first_factor', 'second_factor', 'multi_factor'] }).notNull(),
    status: text('status', { enum: ['needs_first_factor', 'needs_second_factor', 'complete'] }).notNull(),
    firstFactorChallengeId: text('first_factor_challenge_id'),
    secondFactorChallengeId: text('second_factor_challenge_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('reverifications_session').on(t.sessionId, t.createdAt)],
)

export type ReverificationRow = typeof reverifications.$inferSelect
