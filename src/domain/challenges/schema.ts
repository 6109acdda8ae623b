import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * `transferable`: an external provider vouched for an identity that has no user yet; a sign-up
 * may take it over (`transfer: true`).
 */
export const CHALLENGE_STATUSES = ['unverified', 'verified', 'failed', 'expired', 'transferable'] as const
export type ChallengeStatus = (typeof CHALLENGE_STATUSES)[number]

/**
 * One verification attempt (the seed's replacement for prepare/attempt): a code sent to an
 * identifier, a magic link, a password check. Codes and link tokens are stored as SHA-256.
 */
export const challenges = sqliteTable(
  'challenges',
  {
    id: text('id').primaryKey(),
    parentType: text('parent_type', {
      enum: ['sign_in', 'sign_up', 'email_address', 'phone_number', 'session', 'organization_domain'],
    }).notNull(),
    parentId: text('parent_id').notNull(),
    step: text('step', {
      enum: ['first_factor', 'second_factor', 'verification', 'reset_password', 'affiliation'],
    }).notNull(),
    strategy: text('strategy').notNull(),
    status: text('status', { enum: CHALLENGE_STATUSES }).notNull(),
    /** Where the code or link went: an email address or phone number id, or the raw value. */
    targetId: text('target_id'),
    target: text('target'),
    codeHash: text('code_hash'),
    linkTokenHash: text('link_token_hash'),
    redirectUrl: text('redirect_url'),
    /** Redirect factors: where the browser goes to verify (the provider's authorization URL). */
    externalUrl: text('external_url'),
    /** What a redirect factor's callback established (a transferable external identity). */
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** The client that asked for it (email links may have to be opened there). */
    clientId: text('client_id'),
    verifiedFromClientId: text('verified_from_client_id'),
    attempts: integer('attempts').notNull().default(0),
    expireAt: integer('expire_at').notNull(),
    verifiedAt: integer('verified_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('challenges_parent').on(t.parentType, t.parentId, t.createdAt),
    index('challenges_link').on(t.linkTokenHash),
    index('challenges_target').on(t.target, t.createdAt),
    index('challenges_expiry').on(t.status, t.expireAt),
  ],
)

export type ChallengeRow = typeof challenges.$inferSelect
