import { and, eq, gt } from 'drizzle-orm'
import { randomToken, sha256Hex } from '../../crypto/secrets'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type EmittedEvent, emit, type Reaction } from '../events/service'
import { verifiedEmailsAtDomain } from '../users/identifiers'
import { roleByKey } from './rbac'
import {
  type DomainRow,
  type OrgInvitationRow,
  organizationDomains,
  organizationInvitations,
  organizationMembershipRequests,
  organizations,
} from './schema'
import { toInvitationResources, toMembershipRequestResource } from './serialize'
import { findMembership, membershipRoom } from './service'

/** Automatic invitations live as long as typed ones. */
export const INVITATION_TTL_DAYS = 30

/** The pending (unexpired) invitation of an address to an organization, if any. */
export const pendingInvitation = (tx: EnvTx, organizationId: string, email: string, now: number) =>
  tx
    .select({ id: organizationInvitations.id })
    .from(organizationInvitations)
    .where(
      and(
        eq(organizationInvitations.organizationId, organizationId),
        eq(organizationInvitations.emailAddress, email),
        eq(organizationInvitations.status, 'pending'),
        gt(organizationInvitations.expireAt, now),
      ),
    )
    .get()

/**
 * What a verified domain in an automatic mode does for one user with a verified address there:
 * a pending invitation (automatic_invitation) or a membership request for the members to approve
 * (automatic_suggestion), once, unless they are a member already or the org is full.
 */
function enrollUser(tx: EnvTx, ctx: EnvContext, d: DomainRow, userId: string, email: string) {
  if (d.enrollmentMode === 'manual_invitation' || findMembership(tx, d.organizationId, userId)) return
  const now = ctx.clock.now()
  if (d.enrollmentMode === 'automatic_invitation') {
    if (pendingInvitation(tx, d.organizationId, email, now)) return
    const org = tx.select().from(organizations).where(eq(organizations.id, d.organizationId)).get()
    const role = roleByKey(tx, ctx.settings().organizations.default_role)
    if (!org || !role || membershipRoom(tx, ctx, org).left < 1) return
    const row: OrgInvitationRow = {
      id: newId('invitation'),
      organizationId: org.id,
      emailAddress: email,
      roleId: role.id,
      roleKey: role.key,
      inviterUserId: null,
      status: 'pending',
      source: 'domain',
      // Never sent: the user accepts it signed in (`/v1/me/organization-invitations`).
      ticketHash: sha256Hex(randomToken(32)),
      redirectUrl: null,
      publicMetadata: {},
      privateMetadata: {},
      expireAt: now + INVITATION_TTL_DAYS * 86400_000,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(organizationInvitations).values(row).run()
    emit(tx, ctx, 'organizationInvitation.created', toInvitationResources(ctx, tx, [row])[0]!)
    return
  }
  const existing = tx
    .select({ id: organizationMembershipRequests.id })
    .from(organizationMembershipRequests)
    .where(
      and(
        eq(organizationMembershipRequests.organizationId, d.organizationId),
        eq(organizationMembershipRequests.userId, userId),
      ),
    )
    .get()
  if (existing) return
  const request = {
    id: newId('membershipRequest'),
    organizationId: d.organizationId,
    userId,
    emailAddress: email,
    status: 'pending' as const,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(organizationMembershipRequests).values(request).run()
  emit(tx, ctx, 'organizationMembershipRequest.created', toMembershipRequestResource(ctx, tx, request))
}

const enrollmentOn = (ctx: EnvContext) => {
  const s = ctx.settings().organizations
  return s.enabled && s.domains_enabled
}

/**
 * A user's address became verified (sign-up, BAPI create, email verification): a verified
 * domain of an organization in an automatic mode invites or suggests them. Runs in the
 * caller's transaction.
 */
export function enrollVerifiedEmail(tx: EnvTx, ctx: EnvContext, userId: string, email: string) {
  if (!enrollmentOn(ctx)) return
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
  const d = tx
    .select()
    .from(organizationDomains)
    .where(and(eq(organizationDomains.name, domain), eq(organizationDomains.verified, true)))
    .get()
  if (d) enrollUser(tx, ctx, d, userId, email.toLowerCase())
}

/** A domain became verified or automatic: every user already verified at it is enrolled. */
export function enrollExistingUsers(tx: EnvTx, ctx: EnvContext, d: DomainRow) {
  if (!enrollmentOn(ctx) || !d.verified || d.enrollmentMode === 'manual_invitation') return
  for (const m of verifiedEmailsAtDomain(tx, d.name)) enrollUser(tx, ctx, d, m.userId, m.email)
}

/** A new user's verified addresses enroll them (sign-up completion, BAPI create). */
export const onUserCreated: Reaction = (tx, ctx, event: EmittedEvent) => {
  const user = event.payload as {
    id: string
    email_addresses?: Array<{ email_address: string; verification: { status: string } }>
  }
  for (const e of user.email_addresses ?? [])
    if (e.verification.status === 'verified') enrollVerifiedEmail(tx, ctx, user.id, e.email_address)
}
