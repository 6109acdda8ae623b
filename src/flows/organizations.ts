import type { ListQuery } from '../db/pages'
import { withTx } from '../db/tx'
import type { ClientActor } from '../domain/clients/service'
import { missingPermission, organizationsDisabled, orgNotFound } from '../domain/organizations/errors'
import {
  acceptOrgInvitation,
  findOrgInvitation,
  insertOrgInvitation,
  pageOfInvitations,
  pendingInvitationsFilter,
} from '../domain/organizations/invitations'
import { MANAGE_MEMBERS, READ_MEMBERS, roleHas } from '../domain/organizations/rbac'
import {
  pageOfMembershipRequests,
  type RequestStatus,
  settleMembershipRequest,
} from '../domain/organizations/requests'
import {
  loadOrgWithCounts,
  toFapiInvitations,
  toFapiMemberships,
  toFapiOrganization,
} from '../domain/organizations/serialize'
import {
  assertOrganizationsEnabled,
  findMembership,
  findOrganization,
  insertOrganization,
  listMemberships,
  pageOfUserMemberships,
  removeMembership,
  userOrganizationIds,
} from '../domain/organizations/service'
import { assertStoredRedirect } from '../domain/redirects/service'
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
export function requireMember(ctx: EnvContext, actor: ClientActor, idOrSlug: string, permission?: string) {
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
  if (input.redirect_url) assertStoredRedirect(ctx, input.redirect_url, actor.frontendUrl)
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
  return pageOfUserMemberships(ctx, agg.user.id, q, toFapiMemberships)
}

function userInvitationScope(ctx: EnvContext, actor: ClientActor) {
  const { user: agg } = requireSignedIn(ctx, actor, actor.sessionId)
  const emails = agg.emails.filter((e) => e.verified).map((e) => e.emailAddress)
  const memberOf = userOrganizationIds(ctx.db, agg.user.id)
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

/** Requests to join made for the user (verified domains in `automatic_suggestion` mode). */
export function myMembershipRequests(
  ctx: EnvContext,
  actor: ClientActor,
  q: ListQuery & { status?: RequestStatus },
) {
  const { user } = requireSignedIn(ctx, actor, actor.sessionId)
  return pageOfMembershipRequests(ctx, { userId: user.user.id, status: q.status }, q)
}

// ---- membership requests (members who manage members) -------------------------------------

export function listOrganizationRequests(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  q: ListQuery & { status?: RequestStatus },
) {
  const { org } = requireMember(ctx, actor, id, MANAGE_MEMBERS)
  return pageOfMembershipRequests(ctx, { organizationId: org.id, status: q.status }, q)
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
  return withTx(ctx, (tx) => settleMembershipRequest(tx, ctx, org, requestId, outcome))
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
