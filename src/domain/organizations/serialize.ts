import { and, count, eq, gt, inArray, type SQLWrapper, sql } from 'drizzle-orm'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type ChallengeRow, toChallengeResource } from '../challenges/service'
import { findUser } from '../users/service'
import {
  type DomainRow,
  type MembershipRequestRow,
  type MembershipRow,
  type OrganizationRow,
  type OrgInvitationRow,
  organizationInvitations,
  organizationMembershipRequests,
  organizationMemberships,
  organizations,
  permissions,
  rolePermissions,
  roles,
} from './schema'

type Db = EnvContext['db'] | EnvTx

// ---- organizations ------------------------------------------------------------------------

export interface OrgWithCounts {
  org: OrganizationRow
  members: number
  pending: number
}

/** Organizations with their member and pending-invitation counts, in one query. */
export function selectOrganizations(db: Db, now: number) {
  // Selected expressions get unqualified column names from drizzle: spell this one out.
  const orgId = sql.raw('"organizations"."id"')
  return db
    .select({
      org: organizations,
      members: sql<number>`(select count(*) from ${organizationMemberships} m where m.organization_id = ${orgId})`,
      pending: sql<number>`(select count(*) from ${organizationInvitations} i where i.organization_id = ${orgId} and i.status = 'pending' and i.expire_at > ${now})`,
    })
    .from(organizations)
}

export function loadOrgWithCounts(db: Db, now: number, id: string): OrgWithCounts | null {
  return selectOrganizations(db, now).where(eq(organizations.id, id)).get() ?? null
}

export function toOrganizationResource(ctx: EnvContext, { org: o, members, pending }: OrgWithCounts) {
  return {
    object: 'organization' as const,
    id: o.id,
    name: o.name,
    slug: o.slug,
    image_url: o.imageUrl,
    has_image: o.imageUrl !== null,
    members_count: members,
    pending_invitations_count: pending,
    max_allowed_memberships: o.maxAllowedMemberships ?? ctx.settings().organizations.max_allowed_memberships,
    admin_delete_enabled: o.adminDeleteEnabled,
    public_metadata: o.publicMetadata,
    private_metadata: o.privateMetadata,
    created_by: o.createdBy,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  }
}
export type OrganizationResource = ReturnType<typeof toOrganizationResource>

export function toFapiOrganization(ctx: EnvContext, o: OrgWithCounts) {
  const { private_metadata: _, ...rest } = toOrganizationResource(ctx, o)
  return rest
}

export const publicOrganizationData = (o: OrganizationRow) => ({
  id: o.id,
  name: o.name,
  slug: o.slug,
  image_url: o.imageUrl,
  has_image: o.imageUrl !== null,
})

// ---- users --------------------------------------------------------------------------------

export function publicUserData(ctx: EnvContext, userId: string) {
  const agg = findUser(ctx, userId)
  const u = agg?.user
  return {
    user_id: userId,
    first_name: u?.firstName ?? null,
    last_name: u?.lastName ?? null,
    image_url: u?.imageUrl ?? null,
    has_image: !!u?.imageUrl,
    identifier:
      agg?.emails.find((e) => e.id === u?.primaryEmailAddressId)?.emailAddress ??
      agg?.phones.find((p) => p.id === u?.primaryPhoneNumberId)?.phoneNumber ??
      u?.username ??
      null,
    username: u?.username ?? null,
    banned: u?.banned ?? false,
  }
}

// ---- memberships --------------------------------------------------------------------------

/** Memberships with their role, permissions, organization and user, for one page at a time. */
export function toMembershipResources(ctx: EnvContext, db: Db, rows: MembershipRow[]) {
  if (!rows.length) return []
  const now = ctx.clock.now()
  const roleIds = [...new Set(rows.map((m) => m.roleId))]
  const orgIds = [...new Set(rows.map((m) => m.organizationId))]
  const roleRows = db.select().from(roles).where(inArray(roles.id, roleIds)).all()
  const perms = db
    .select({ roleId: rolePermissions.roleId, key: permissions.key })
    .from(rolePermissions)
    .innerJoin(permissions, eq(permissions.id, rolePermissions.permissionId))
    .where(inArray(rolePermissions.roleId, roleIds))
    .orderBy(permissions.key)
    .all()
  const orgs = selectOrganizations(db, now).where(inArray(organizations.id, orgIds)).all()
  return rows.map((m) => {
    const role = roleRows.find((r) => r.id === m.roleId)
    return {
      object: 'organization_membership' as const,
      id: m.id,
      role: role?.key ?? '',
      role_name: role?.name ?? '',
      permissions: perms.filter((p) => p.roleId === m.roleId).map((p) => p.key),
      public_metadata: m.publicMetadata,
      private_metadata: m.privateMetadata,
      organization: toOrganizationResource(ctx, orgs.find((o) => o.org.id === m.organizationId)!),
      public_user_data: publicUserData(ctx, m.userId),
      created_at: m.createdAt,
      updated_at: m.updatedAt,
    }
  })
}
export type MembershipResource = ReturnType<typeof toMembershipResources>[number]

export const toMembershipResource = (ctx: EnvContext, db: Db, m: MembershipRow) =>
  toMembershipResources(ctx, db, [m])[0]!

/** A member's view: no private metadata, of the membership or of the organization. */
export const toFapiMemberships = (ctx: EnvContext, db: Db, rows: MembershipRow[]) =>
  toMembershipResources(ctx, db, rows).map(({ private_metadata: _, organization, ...m }) => {
    const { private_metadata: __, ...org } = organization
    return { ...m, organization: org }
  })

// ---- invitations --------------------------------------------------------------------------

export const invitationStatus = (r: OrgInvitationRow, now: number) =>
  r.status === 'pending' && now >= r.expireAt ? ('expired' as const) : r.status

export function toInvitationResources(ctx: EnvContext, db: Db, rows: OrgInvitationRow[]) {
  if (!rows.length) return []
  const now = ctx.clock.now()
  const roleIds = [...new Set(rows.map((r) => r.roleId).filter((id): id is string => id !== null))]
  const roleRows = roleIds.length ? db.select().from(roles).where(inArray(roles.id, roleIds)).all() : []
  return rows.map((r) => {
    const role = roleRows.find((x) => x.id === r.roleId)
    return {
      object: 'organization_invitation' as const,
      id: r.id,
      email_address: r.emailAddress,
      role: role?.key ?? r.roleKey,
      role_name: role?.name ?? r.roleKey,
      organization_id: r.organizationId,
      inviter_user_id: r.inviterUserId,
      status: invitationStatus(r, now),
      source: r.source,
      public_metadata: r.publicMetadata,
      private_metadata: r.privateMetadata,
      url: null as string | null,
      expire_at: r.expireAt,
      expires_at: r.expireAt,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    }
  })
}
export type InvitationResource = ReturnType<typeof toInvitationResources>[number]

/** The invitee's view: no private metadata, and who is inviting them. */
export function toFapiInvitations(ctx: EnvContext, db: Db, rows: OrgInvitationRow[]) {
  if (!rows.length) return []
  const orgRows = db
    .select()
    .from(organizations)
    .where(inArray(organizations.id, [...new Set(rows.map((r) => r.organizationId))]))
    .all()
  return toInvitationResources(ctx, db, rows).map(({ private_metadata: _, ...r }) => ({
    ...r,
    public_organization_data: publicOrganizationData(orgRows.find((o) => o.id === r.organization_id)!),
  }))
}

// ---- domains ------------------------------------------------------------------------------

export const dnsRecordName = (domain: string) => `_authn-verification.${domain}`

/** An email column's addresses at exactly this domain (subdomains are other domains). */
export const emailAtDomain = (column: SQLWrapper, domain: string) =>
  sql`${column} like ${`%@${domain.replace(/[\\%_]/g, (c) => `\\${c}`)}`} escape '\\'`

export function toDomainResource(ctx: EnvContext, db: Db, d: DomainRow, latest: ChallengeRow | null) {
  const now = ctx.clock.now()
  const invitations =
    db
      .select({ n: count() })
      .from(organizationInvitations)
      .where(
        and(
          eq(organizationInvitations.organizationId, d.organizationId),
          eq(organizationInvitations.status, 'pending'),
          eq(organizationInvitations.source, 'domain'),
          gt(organizationInvitations.expireAt, now),
          emailAtDomain(organizationInvitations.emailAddress, d.name),
        ),
      )
      .get()?.n ?? 0
  const suggestions =
    db
      .select({ n: count() })
      .from(organizationMembershipRequests)
      .where(
        and(
          eq(organizationMembershipRequests.organizationId, d.organizationId),
          eq(organizationMembershipRequests.status, 'pending'),
          emailAtDomain(organizationMembershipRequests.emailAddress, d.name),
        ),
      )
      .get()?.n ?? 0
  const challenge = latest ? toChallengeResource(latest, now) : null
  return {
    object: 'organization_domain' as const,
    id: d.id,
    organization_id: d.organizationId,
    name: d.name,
    enrollment_mode: d.enrollmentMode,
    affiliation_email_address: d.affiliationEmailAddress,
    verification: {
      status: d.verified ? ('verified' as const) : ('unverified' as const),
      strategy: d.verified ? d.verificationStrategy : (challenge?.strategy ?? null),
      attempts: challenge?.attempts ?? 0,
      expire_at: d.verified ? null : (challenge?.expire_at ?? null),
      verified_at: d.verifiedAt,
    },
    dns_record: { type: 'TXT' as const, name: dnsRecordName(d.name), value: d.dnsToken },
    total_pending_invitations: invitations,
    total_pending_suggestions: suggestions,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  }
}

export function toDomainChallengeResource(ctx: EnvContext, c: ChallengeRow, d: DomainRow) {
  return {
    ...toChallengeResource(c, ctx.clock.now()),
    dns_record:
      c.strategy === 'dns_txt'
        ? { type: 'TXT' as const, name: dnsRecordName(d.name), value: d.dnsToken }
        : null,
  }
}

// ---- membership requests ------------------------------------------------------------------

export function toMembershipRequestResource(ctx: EnvContext, db: Db, r: MembershipRequestRow) {
  const org = db.select().from(organizations).where(eq(organizations.id, r.organizationId)).get()!
  return {
    object: 'organization_membership_request' as const,
    id: r.id,
    organization_id: r.organizationId,
    status: r.status,
    public_user_data: publicUserData(ctx, r.userId),
    public_organization_data: publicOrganizationData(org),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}
