import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export type Metadata = Record<string, unknown>

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    externalId: text('external_id').unique(),
    /** Lower-cased: usernames are unique case-insensitively. */
    username: text('username').unique(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    imageUrl: text('image_url'),
    passwordDigest: text('password_digest'),
    passwordUpdatedAt: integer('password_updated_at'),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    privateMetadata: text('private_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    unsafeMetadata: text('unsafe_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    primaryEmailAddressId: text('primary_email_address_id'),
    primaryPhoneNumberId: text('primary_phone_number_id'),
    banned: integer('banned', { mode: 'boolean' }).notNull().default(false),
    /** Set while locked; `lockedUntil` null with `lockedAt` set means locked until unlocked. */
    lockedAt: integer('locked_at'),
    lockedUntil: integer('locked_until'),
    failedVerificationAttempts: integer('failed_verification_attempts').notNull().default(0),
    /** 0 until the first sign-in (serialized as null): keeps keyset ordering on a plain index. */
    lastSignInAt: integer('last_sign_in_at').notNull().default(0),
    lastActiveAt: integer('last_active_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('users_created').on(t.createdAt, t.id),
    index('users_updated').on(t.updatedAt, t.id),
    index('users_last_sign_in').on(t.lastSignInAt, t.id),
  ],
)

export const emailAddresses = sqliteTable(
  'email_addresses',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Lower-cased: one address belongs to one user, whatever its case. */
    emailAddress: text('email_address').notNull().unique(),
    verified: integer('verified', { mode: 'boolean' }).notNull(),
    verificationStrategy: text('verification_strategy'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('email_addresses_user').on(t.userId, t.createdAt, t.id)],
)

export const phoneNumbers = sqliteTable(
  'phone_numbers',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    phoneNumber: text('phone_number').notNull().unique(),
    verified: integer('verified', { mode: 'boolean' }).notNull(),
    verificationStrategy: text('verification_strategy'),
    reservedForSecondFactor: integer('reserved_for_second_factor', { mode: 'boolean' })
      .notNull()
      .default(false),
    defaultSecondFactor: integer('default_second_factor', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('phone_numbers_user').on(t.userId, t.createdAt, t.id)],
)

export type UserRow = typeof users.$inferSelect
export type EmailAddressRow = typeof emailAddresses.$inferSelect
export type PhoneNumberRow = typeof phoneNumbers.$inferSelect
