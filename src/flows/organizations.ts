import { and, eq } from 'drizzle-orm'
import { type ListQuery, pageOf, tablePage } from '../db/pages'
import { withTx } from '../db/tx'
import type { ClientActor } from '../domain/clients/service'
import { emit } from '../domain/events/service'
import { missingPermission, organizationsDisabled, orgNotFound } from '../domain/organizations/errors'
import {
  acceptOrgInvitation,
  findOrgInvitation,
  insertOrgInvitation,
  pageOfInvitations,
  pendingInvitationsFilter,
} from '../domain/organizations/invitations'
import { MANAGE_MEMBERS, READ_MEMBERS, requireRoleByKey, roleHas } from '../domain/organizations/rbac'
import { organizationMembershipRequests, organizationMemberships } from '../domain/organizations/schema'
import {
  loadOrgWithCounts,
  toFapiInvitations,
  toFapiMemberships,
  toFapiOrganization,
  toMembershipRequestResource,
} from '../domain/organizations/serialize'
import {
  assertOrganizationsEnabled,
  findMembership,
  findOrganization,
  insertMembership,
  insertOrganization,
  listMemberships,
  pageOfMemberships,
  removeMembership,
} from '../domain/organizations/service'
import { assertAllowedRedirect } from '../domain/redirects/service'
import { isLive, sessionTokenRefused, setActiveOrganization } from '../domain/sessions/service'
import { AppError, notFound } from '../lib/errors'
import { isId } from '../lib/ids'
import type { EnvContext } from '../tenancy/context'
import { requireSignedIn } from './account/signed-in'
import { ownSession } from './client/service'
import { toFapiSession } from './client/view'

/**
 * The signed-in member acting on an organization: non-members (and unknown organizations) see
 * 404; a member whose role lacks `permission` gets 403 authorization_invalid.
 */
function requireMember(ctx: EnvContext, actor: ClientActor, idOrSlug: string, permission?: string) {
  assertOrganizationsEnabled(ctx)
  const { session, user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  const org = findOrganization(ctx.db, idOrSlug)
  const membership = org ? findMembership(ctx.db, org.id, agg.user.id) : null
  if (!org || !membership) throw orgNotFound()
  if (permission && !roleHas(ctx.db, membership.roleId, permission)) throw missingPermission(permission)
  return { session, user: agg.user, agg, org, membership }
}

const fapiOrganization = (ctx: EnvContext, id: string) =>
  toFapiOrganization(ctx, loadOrgWithCounts(ctx.db, ctx.clock.now(), id)!)

// ---- organizations ------------------------------------------------------------------------

export function createOrganizationAsUser(
  ctx: EnvContext,
  actor: ClientActor,
  input: { name: string; slug?: string },
) {
  assertOrganizationsEnabled(ctx)
  const { user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  if (!ctx.settings().organizations.users_can_create)
    throw new AppError(403, [
      {
        code: 'user_create_organization_not_enabled',
        message: 'not allowed',
        long_message: 'Users cannot create organizations on this instance.',
      },
    ])
  const created = withTx(ctx, (tx) => insertOrganization(tx, ctx, { ...input, created_by: agg.user.id }))
  return fapiOrganization(ctx, created.id)
}

export const getOrganizationAsMember = (ctx: EnvContext, actor: ClientActor, id: string) =>
  fapiOrganization(ctx, requireMember(ctx, actor, id).org.id)

export function listOrganizationMembers(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  q: ListQuery & { role?: string },
) {
  const { org } = requireMember(ctx, actor, id, READ_MEMBERS)
  return listMemberships(ctx, org.id, q, toFapiMemberships)
}

/** A member with `org:sys_memberships:manage` invites someone (they get the email with the ticket). */
export function inviteAsMember(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: { email_address: string; role?: string; redirect_url?: string },
) {
  const { org, user } = requireMember(ctx, actor, id, MANAGE_MEMBERS)
  // The emailed link forwards there with the ticket: only to the app's own URLs.
  if (input.redirect_url) assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
  const created = withTx(ctx, (tx, after) =>
    insertOrgInvitation(tx, ctx, after, org, { ...input, inviter_user_id: user.id }),
  )
  const row = findOrgInvitation(ctx, created.id)!
  return toFapiInvitations(ctx, ctx.db, [row])[0]!
}

/** The last member who can manage members cannot leave. */
export function leaveOrganization(ctx: EnvContext, actor: ClientActor, id: string) {
  const { membership } = requireMember(ctx, actor, id)
  withTx(ctx, (tx) => removeMembership(tx, ctx, membership))
  return { object: 'organization_membership' as const, id: membership.id, deleted: true as const }
}

// ---- the signed-in user's side ------------------------------------------------------------

export function myMemberships(ctx: EnvContext, actor: ClientActor, q: ListQuery) {
  const { user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  return pageOfMemberships(ctx, eq(organizationMemberships.userId, agg.user.id), q, toFapiMemberships)
}

function userInvitationScope(ctx: EnvContext, actor: ClientActor) {
  const { user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  const emails = agg.emails.filter((e) => e.verified).map((e) => e.emailAddress)
  const memberOf = ctx.db
    .select({ id: organizationMemberships.organizationId })
    .from(organizationMemberships)
    .where(eq(organizationMemberships.userId, agg.user.id))
    .all()
    .map((r) => r.id)
  return { agg, emails, memberOf }
}

/** Pending invitations to the user's verified addresses, for organizations they are not in. */
export function myInvitations(ctx: EnvContext, actor: ClientActor, q: ListQuery) {
  const { emails, memberOf } = userInvitationScope(ctx, actor)
  return pageOfInvitations(
    ctx,
    pendingInvitationsFilter(emails, ctx.clock.now(), memberOf),
    q,
    toFapiInvitations,
  )
}

export function acceptMyInvitation(ctx: EnvContext, actor: ClientActor, invitationId: string) {
  assertOrganizationsEnabled(ctx)
  const { agg, emails } = userInvitationScope(ctx, actor)
  const row = isId('invitation', invitationId) ? findOrgInvitation(ctx, invitationId) : null
  // Someone else's invitation does not exist as far as this user can tell.
  if (!row || !emails.includes(row.emailAddress)) throw notFound('organization invitation')
  const accepted = withTx(ctx, (tx) => acceptOrgInvitation(tx, ctx, row, agg.user.id, true))
  return toFapiInvitations(ctx, ctx.db, [accepted])[0]!
}

function pageOfRequests(ctx: EnvContext, filter: ReturnType<typeof and>, q: ListQuery) {
  const page = tablePage(ctx, organizationMembershipRequests, filter, q)
  return pageOf(
    page.rows.map((r) => toMembershipRequestResource(ctx, ctx.db, r)),
    page.next_cursor,
    page.total,
  )
}

type RequestStatus = 'pending' | 'accepted' | 'rejected'

/** Requests to join made for the user (verified domains in `automatic_suggestion` mode). */
export function myMembershipRequests(
  ctx: EnvContext,
  actor: ClientActor,
  q: ListQuery & { status?: RequestStatus },
) {
  const { user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  return pageOfRequests(
    ctx,
    and(
      eq(organizationMembershipRequests.userId, agg.user.id),
      q.status ? eq(organizationMembershipRequests.status, q.status) : undefined,
    ),
    q,
  )
}

// ---- membership requests (members who manage members) -------------------------------------

export function listOrganizationRequests(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  q: ListQuery & { status?: RequestStatus },
) {
  const { org } = requireMember(ctx, actor, id, MANAGE_MEMBERS)
  return pageOfRequests(
    ctx,
    and(
      eq(organizationMembershipRequests.organizationId, org.id),
      q.status ? eq(organizationMembershipRequests.status, q.status) : undefined,
    ),
    q,
  )
}

/** Accepting makes the user a member in the instance's default role; rejecting closes it. */
export function settleOrganizationRequest(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  requestId: string,
  outcome: 'accepted' | 'rejected',
) {
  const { org } = requireMember(ctx, actor, id, MANAGE_MEMBERS)
  return withTx(ctx, (tx) => {
    const r = isId('membershipRequest', requestId)
      ? tx
          .select()
          .from(organizationMembershipRequests)
          .where(
            and(
              eq(organizationMembershipRequests.id, requestId),
              eq(organizationMembershipRequests.organizationId, org.id),
            ),
          )
          .get()
      : undefined
    if (!r) throw notFound('organization membership request')
    if (r.status !== 'pending')
      throw new AppError(400, [
        {
          code: 'organization_membership_request_not_pending',
          message: 'not pending',
          long_message: `The request is ${r.status}.`,
        },
      ])
    const now = ctx.clock.now()
    if (outcome === 'accepted') {
      const role = requireRoleByKey(tx, ctx.settings().organizations.default_role)
      insertMembership(tx, ctx, { org, userId: r.userId, role, checkRoom: true })
    }
    tx.update(organizationMembershipRequests)
      .set({ status: outcome, updatedAt: now })
      .where(eq(organizationMembershipRequests.id, r.id))
      .run()
    const resource = toMembershipRequestResource(ctx, tx, { ...r, status: outcome, updatedAt: now })
    emit(tx, ctx, `organizationMembershipRequest.${outcome}`, resource)
    return resource
  })
}

// ---- active organization ------------------------------------------------------------------

/** The seed's route: sets (or clears, with null) the session's active organization. */
export function setSessionOrganization(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  organizationId: string | null,
) {
  if (!ctx.settings().organizations.enabled && organizationId !== null) throw organizationsDisabled()
  const s = ownSession(ctx, actor, sid)
  if (!isLive(s, ctx.clock.now())) throw sessionTokenRefused('The session is not active.')
  return toFapiSession(ctx, setActiveOrganization(ctx, s, organizationId || null))
}
