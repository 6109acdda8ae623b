import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { Metadata } from '../users/schema'

export const signUps = sqliteTable(
  'sign_ups',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    status: text('status', { enum: ['missing_requirements', 'complete', 'abandoned'] }).notNull(),
    emailAddress: text('email_address'),
    emailVerified: integer('email_verified', { mode: 'boolean' }).notNull().default(false),
    emailVerificationStrategy: text('email_verification_strategy'),
    emailChallengeId: text('email_challenge_id'),
    phoneNumber: text('phone_number'),
    phoneVerified: integer('phone_verified', { mode: 'boolean' }).notNull().default(false),
    phoneChallengeId: text('phone_challenge_id'),
    username: text('username'),
    passwordDigest: text('password_digest'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    unsafeMetadata: text('unsafe_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    /** The invitation whose ticket this sign-up presented. */
    invitationId: text('invitation_id'),
    /** The sign-in challenge whose external identity this sign-up took over (`transfer: true`). */
    transferChallengeId: text('transfer_challenge_id'),
    createdUserId: text('created_user_id'),
    createdSessionId: text('created_session_id'),
    abandonAt: integer('abandon_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('sign_ups_client').on(t.clientId), index('sign_ups_abandon').on(t.status, t.abandonAt)],
)

export type SignUpRow = typeof signUps.$inferSelect
