import { and, eq } from 'drizzle-orm'
import { type ListQuery, pageOf, tablePage } from '../../db/pages'
import { AppError, notFound } from '../../lib/errors'
import { isId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { requireRoleByKey } from './rbac'
import { type OrganizationRow, organizationMembershipRequests } from './schema'
import { toMembershipRequestResource } from './serialize'
import { insertMembership } from './service'

/** Requests to join an organization (verified domains in `automatic_suggestion` mode). */

export type RequestStatus = 'pending' | 'accepted' | 'rejected'

/** Newest first: an organization's requests, or a user's, optionally of one status. */
export function pageOfMembershipRequests(
  ctx: EnvContext,
  scope: { organizationId?: string; userId?: string; status?: RequestStatus },
  q: ListQuery,
) {
  const filter = and(
    scope.organizationId
      ? eq(organizationMembershipRequests.organizationId, scope.organizationId)
      : undefined,
    scope.userId ? eq(organizationMembershipRequests.userId, scope.userId) : undefined,
    scope.status ? eq(organizationMembershipRequests.status, scope.status) : undefined,
  )
  const page = tablePage(ctx, organizationMembershipRequests, filter, q)
  return pageOf(
    page.rows.map((r) => toMembershipRequestResource(ctx, ctx.db, r)),
    page.next_cursor,
    page.total,
  )
}

/** Accepting makes the user a member in the instance's default role; rejecting closes it. */
export function settleMembershipRequest(
  tx: EnvTx,
  ctx: EnvContext,
  org: OrganizationRow,
  requestId: string,
  outcome: 'accepted' | 'rejected',
) {
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
}
