import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { organizations } from '../organizations/schema'
import { users } from '../users/schema'

/**
 * SCIM bearer tokens: one identifies an organization's directory (the env comes from the host).
 * Only the SHA-256 of the token is kept; `token_prefix` is what a person recognises it by.
 */
export const scimTokens = sqliteTable(
  'scim_tokens',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    tokenPrefix: text('token_prefix').notNull(),
    name: text('name'),
    /** The member who issued it on FAPI; null when issued on BAPI. */
    createdBy: text('created_by'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('scim_tokens_org').on(t.organizationId, t.createdAt, t.id)],
)

/** An organization's override of the default attribute mapping (no row: the defaults). */
export const scimAttributeMappings = sqliteTable('scim_attribute_mappings', {
  organizationId: text('organization_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  mapping: text('mapping', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/**
 * A user provisioned by an organization's directory. The SCIM `id` is the user's id; a user is
 * managed by at most one directory. `resource` keeps the client-owned attributes as sent.
 */
export const scimUsers = sqliteTable(
  'scim_users',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** As sent; unique per organization case-insensitively (the index collates NOCASE). */
    userName: text('user_name').notNull(),
    externalId: text('external_id'),
    active: integer('active', { mode: 'boolean' }).notNull(),
    resource: text('resource', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** Bumped on every change: the weak ETag. */
    version: integer('version').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('scim_users_org_user_name').on(t.organizationId, sql`${t.userName} collate nocase`),
    index('scim_users_org_external_id').on(t.organizationId, t.externalId),
    index('scim_users_org_created').on(t.organizationId, t.createdAt, t.userId),
  ],
)

/** A directory group of an organization; it may map to an organization role. */
export const scimGroups = sqliteTable(
  'scim_groups',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    displayName: text('display_name').notNull(),
    externalId: text('external_id'),
    version: integer('version').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('scim_groups_org_display_name').on(t.organizationId, sql`${t.displayName} collate nocase`),
    index('scim_groups_org_created').on(t.organizationId, t.createdAt, t.id),
  ],
)

export const scimGroupMembers = sqliteTable(
  'scim_group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => scimGroups.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => scimUsers.userId, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('scim_group_members_user').on(t.userId)],
)

export type ScimTokenRow = typeof scimTokens.$inferSelect
export type ScimUserRow = typeof scimUsers.$inferSelect
export type ScimGroupRow = typeof scimGroups.$inferSelect
