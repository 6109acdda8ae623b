import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { Metadata } from '../users/schema'

/** One-time sign-in tokens minted by the backend; the ticket itself is stored as SHA-256. */
export const signInTokens = sqliteTable(
  'sign_in_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    ticketHash: text('ticket_hash').notNull().unique(),
    status: text('status', { enum: ['pending', 'accepted', 'revoked'] }).notNull(),
    expireAt: integer('expire_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('sign_in_tokens_created').on(t.createdAt, t.id)],
)

/** Instance invitations: the invitee signs up (or in) with the emailed ticket. */
export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    emailAddress: text('email_address').notNull(),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    ticketHash: text('ticket_hash').notNull().unique(),
    redirectUrl: text('redirect_url'),
    status: text('status', { enum: ['pending', 'accepted', 'revoked', 'expired'] }).notNull(),
    expireAt: integer('expire_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('invitations_created').on(t.createdAt, t.id), index('invitations_email').on(t.emailAddress)],
)

export type SignInTokenRow = typeof signInTokens.$inferSelect
export type InvitationRow = typeof invitations.$inferSelect
