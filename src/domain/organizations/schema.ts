import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { users } from '../users/schema'

type Metadata = Record<string, unknown>

/** Permissions: the system ones (`org:sys_*`, seeded) and the env's custom `org:<feature>:<action>`. */
export const permissions = sqliteTable(
  'permissions',
  {
    id: text('id').primaryKey(),
    key: text('key').notNull().unique(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    type: text('type', { enum: ['system', 'user'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('permissions_created').on(t.createdAt, t.id)],
)

/** Roles (`org:<name>`): the defaults `org:admin` and `org:member` (seeded) and custom ones. */
export const roles = sqliteTable(
  'roles',
  {
    id: text('id').primaryKey(),
    key: text('key').notNull().unique(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('roles_created').on(t.createdAt, t.id)],
)

export const rolePermissions = sqliteTable(
  'role_permissions',
  {
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    permissionId: text('permission_id')
      .notNull()
      .references(() => permissions.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.roleId, t.permissionId] }),
    index('role_permissions_perm').on(t.permissionId),
  ],
)

export const organizations = sqliteTable(
  'organizations',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Lower-case, unique per env. */
    slug: text('slug').notNull().unique(),
    imageUrl: text('image_url'),
    /** null: the instance's limit; 0: unlimited. */
    maxAllowedMemberships: integer('max_allowed_memberships'),
    adminDeleteEnabled: integer('admin_delete_enabled', { mode: 'boolean' }).notNull().default(true),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    privateMetadata: text('private_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('organizations_created').on(t.createdAt, t.id)],
)

export const organizationMemberships = sqliteTable(
  'organization_memberships',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** A role in use cannot be deleted. */
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    privateMetadata: text('private_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('organization_memberships_org_user').on(t.organizationId, t.userId),
    index('organization_memberships_org').on(t.organizationId, t.createdAt, t.id),
    index('organization_memberships_user').on(t.userId, t.createdAt, t.id),
    index('organization_memberships_role').on(t.roleId),
  ],
)

export const organizationInvitations = sqliteTable(
  'organization_invitations',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Lower-cased. */
    emailAddress: text('email_address').notNull(),
    /** Pending invitations keep their role from being deleted; ended ones keep its key. */
    roleId: text('role_id').references(() => roles.id, { onDelete: 'set null' }),
    roleKey: text('role_key').notNull(),
    inviterUserId: text('inviter_user_id'),
    status: text('status', { enum: ['pending', 'accepted', 'revoked'] }).notNull(),
    /** `invitation` (someone invited them) or `domain` (automatic invitation by verified domain). */
    source: text('source', { enum: ['invitation', 'domain'] }).notNull(),
    ticketHash: text('ticket_hash').notNull().unique(),
    redirectUrl: text('redirect_url'),
    publicMetadata: text('public_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    privateMetadata: text('private_metadata', { mode: 'json' }).$type<Metadata>().notNull(),
    expireAt: integer('expire_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('organization_invitations_org').on(t.organizationId, t.createdAt, t.id),
    index('organization_invitations_email').on(t.emailAddress, t.status),
    index('organization_invitations_role').on(t.roleId),
  ],
)

export const ENROLLMENT_MODES = ['manual_invitation', 'automatic_invitation', 'automatic_suggestion'] as const
export type EnrollmentMode = (typeof ENROLLMENT_MODES)[number]

export const organizationDomains = sqliteTable(
  'organization_domains',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Lower-case host name; one organization per domain. */
    name: text('name').notNull().unique(),
    enrollmentMode: text('enrollment_mode', { enum: ENROLLMENT_MODES }).notNull(),
    verified: integer('verified', { mode: 'boolean' }).notNull(),
    verificationStrategy: text('verification_strategy'),
    verifiedAt: integer('verified_at'),
    affiliationEmailAddress: text('affiliation_email_address'),
    /** The value we ask the domain's owner to publish as `_authn-verification.<name>` TXT. */
    dnsToken: text('dns_token').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('organization_domains_org').on(t.organizationId, t.createdAt, t.id)],
)

/** A user asking to join (made for them by an `automatic_suggestion` domain); members approve. */
export const organizationMembershipRequests = sqliteTable(
  'organization_membership_requests',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    emailAddress: text('email_address').notNull(),
    status: text('status', { enum: ['pending', 'accepted', 'rejected'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('organization_membership_requests_org_user').on(t.organizationId, t.userId),
    index('organization_membership_requests_org').on(t.organizationId, t.createdAt, t.id),
    index('organization_membership_requests_user').on(t.userId, t.createdAt, t.id),
  ],
)

export type PermissionRow = typeof permissions.$inferSelect
export type RoleRow = typeof roles.$inferSelect
export type OrganizationRow = typeof organizations.$inferSelect
export type MembershipRow = typeof organizationMemberships.$inferSelect
export type OrgInvitationRow = typeof organizationInvitations.$inferSelect
export type DomainRow = typeof organizationDomains.$inferSelect
export type MembershipRequestRow = typeof organizationMembershipRequests.$inferSelect
