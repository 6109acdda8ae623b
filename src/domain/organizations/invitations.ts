import { and, eq, gt, inArray, lte, notInArray, type SQL } from 'drizzle-orm'
import { randomToken, sha256Hex } from '../../crypto/secrets'
import { pageOf, tablePage } from '../../db/pages'
import { type After, withTx } from '../../db/tx'
import { AppError, formError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { queueMessage } from '../messages/service'
import { assertStoredRedirect } from '../redirects/service'
import { ticketUrl } from '../tickets/service'
import { normalizeEmail, verifiedEmailOwner } from '../users/identifiers'
import { userNames } from '../users/service'
import { INVITATION_TTL_DAYS, pendingInvitation } from './enrollment'
import { alreadyMember } from './errors'
import { requireRoleByKey, roleByKey } from './rbac'
import {
  type OrganizationRow,
  type OrgInvitationRow,
  organizationInvitations,
  organizations,
  roles,
} from './schema'
import { invitationStatus, toInvitationResources } from './serialize'
import {
  assertOrganizationsEnabled,
  assertRoom,
  checkMetadataOf,
  findMembership,
  insertMembership,
  requireOrganization,
} from './service'

type Metadata = Record<string, unknown>

export interface CreateOrgInvitation {
  email_address: string
  role?: string
  inviter_user_id?: string
  public_metadata?: Metadata
  private_metadata?: Metadata
  redirect_url?: string
  expires_in_days?: number
  notify?: boolean
}

const invitationResource = (ctx: EnvContext, tx: EnvTx, row: OrgInvitationRow) =>
  toInvitationResources(ctx, tx, [row])[0]!

/** Is an address a verified one of some member of the organization? */
function memberHasEmail(tx: EnvTx, organizationId: string, email: string) {
  const owner = verifiedEmailOwner(tx, email)
  return owner !== null && findMembership(tx, organizationId, owner) !== null
}

/**
 * Invites one address in the caller's transaction: a ticket in a link by email (unless
 * `notify: false`), counted against the org's membership limit while pending.
 */
export function insertOrgInvitation(
  tx: EnvTx,
  ctx: EnvContext,
  after: After,
  org: OrganizationRow,
  input: CreateOrgInvitation,
  param = 'email_address',
) {
  const email = normalizeEmail(input.email_address, param)
  // The item's own redirect_url: `redirect_url`, or `3.redirect_url` in a bulk request.
  if (input.redirect_url !== undefined)
    assertStoredRedirect(ctx, input.redirect_url, undefined, param.replace(/email_address$/, 'redirect_url'))
  const role = requireRoleByKey(tx, input.role ?? ctx.settings().organizations.default_role)
  checkMetadataOf(input)
  if (memberHasEmail(tx, org.id, email)) throw alreadyMember()
  const now = ctx.clock.now()
  if (pendingInvitation(tx, org.id, email, now))
    throw formError(
      'duplicate_record',
      param,
      'already invited',
      `${email} already has a pending invitation.`,
    )
  let inviter: { id: string; firstName: string | null; lastName: string | null } | undefined
  if (input.inviter_user_id !== undefined) {
    inviter = userNames(tx, input.inviter_user_id) ?? undefined
    if (!inviter)
      throw formError('form_param_value_invalid', 'inviter_user_id', 'is unknown', 'No user has that id.')
  }
  assertRoom(tx, ctx, org)
  const ticket = `oinv_${randomToken(32)}`
  const row: OrgInvitationRow = {
    id: newId('invitation'),
    organizationId: org.id,
    emailAddress: email,
    roleId: role.id,
    roleKey: role.key,
    inviterUserId: inviter?.id ?? null,
    status: 'pending',
    source: 'invitation',
    ticketHash: sha256Hex(ticket),
    redirectUrl: input.redirect_url ?? null,
    publicMetadata: input.public_metadata ?? {},
    privateMetadata: input.private_metadata ?? {},
    expireAt: now + (input.expires_in_days ?? INVITATION_TTL_DAYS) * 86400_000,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(organizationInvitations).values(row).run()
  const url = ticketUrl(ctx, ticket)
  if (input.notify !== false) {
    const inviterName = [inviter?.firstName, inviter?.lastName].filter(Boolean).join(' ')
    queueMessage(tx, ctx, after, {
      channel: 'email',
      template: 'organization_invitation',
      to: email,
      vars: { action_url: url, org_name: org.name, inviter_name: inviterName || 'Someone' },
      secret: true,
    })
  }
  const resource = invitationResource(ctx, tx, row)
  emit(tx, ctx, 'organizationInvitation.created', resource)
  return { ...resource, url }
}

export function createOrgInvitation(ctx: EnvContext, idOrSlug: string, input: CreateOrgInvitation) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx, after) =>
    insertOrgInvitation(tx, ctx, after, requireOrganization(tx, idOrSlug), input),
  )
}

/** All or nothing: one bad address fails the batch. */
export function createOrgInvitations(ctx: EnvContext, idOrSlug: string, inputs: CreateOrgInvitation[]) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx, after) => {
    const org = requireOrganization(tx, idOrSlug)
    return inputs.map((input, i) => insertOrgInvitation(tx, ctx, after, org, input, `${i}.email_address`))
  })
}

type Status = 'pending' | 'accepted' | 'revoked' | 'expired'

function statusFilter(status: Status | undefined, now: number): SQL | undefined {
  if (!status) return undefined
  if (status === 'expired')
    return and(eq(organizationInvitations.status, 'pending'), lte(organizationInvitations.expireAt, now))
  if (status === 'pending')
    return and(eq(organizationInvitations.status, 'pending'), gt(organizationInvitations.expireAt, now))
  return eq(organizationInvitations.status, status)
}

/** Newest first, over a filter, in the view `present` makes. */
export function pageOfInvitations<T>(
  ctx: EnvContext,
  filter: SQL | undefined,
  q: { limit?: number; cursor?: string; include_total_count?: boolean },
  present: (ctx: EnvContext, db: EnvContext['db'], rows: OrgInvitationRow[]) => T[],
) {
  const page = tablePage(ctx, organizationInvitations, filter, q)
  return pageOf(present(ctx, ctx.db, page.rows), page.next_cursor, page.total)
}

export function listOrgInvitations(
  ctx: EnvContext,
  idOrSlug: string,
  q: { status?: Status; limit?: number; cursor?: string; include_total_count?: boolean },
) {
  assertOrganizationsEnabled(ctx)
  const org = requireOrganization(ctx.db, idOrSlug)
  return pageOfInvitations(
    ctx,
    and(eq(organizationInvitations.organizationId, org.id), statusFilter(q.status, ctx.clock.now())),
    q,
    toInvitationResources,
  )
}

const notPending = (status: string) =>
  new AppError(400, [
    {
      code:
        status === 'accepted'
          ? 'organization_invitation_already_accepted'
          : 'organization_invitation_not_pending',
      message: 'not pending',
      long_message: `The invitation is ${status}.`,
    },
  ])

function requireInvitation(tx: EnvTx, organizationId: string, id: string): OrgInvitationRow {
  const row = isId('invitation', id)
    ? tx
        .select()
        .from(organizationInvitations)
        .where(
          and(eq(organizationInvitations.id, id), eq(organizationInvitations.organizationId, organizationId)),
        )
        .get()
    : undefined
  if (!row) throw notFound('organization invitation')
  return row
}

export function getOrgInvitation(ctx: EnvContext, idOrSlug: string, invitationId: string) {
  assertOrganizationsEnabled(ctx)
  const org = requireOrganization(ctx.db, idOrSlug)
  const row = isId('invitation', invitationId) ? findOrgInvitation(ctx, invitationId) : null
  if (!row || row.organizationId !== org.id) throw notFound('organization invitation')
  return toInvitationResources(ctx, ctx.db, [row])[0]!
}

export function revokeOrgInvitation(ctx: EnvContext, idOrSlug: string, invitationId: string) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const row = requireInvitation(tx, org.id, invitationId)
    const now = ctx.clock.now()
    const status = invitationStatus(row, now)
    if (status !== 'pending') throw notPending(status)
    tx.update(organizationInvitations)
      .set({ status: 'revoked', updatedAt: now })
      .where(eq(organizationInvitations.id, row.id))
      .run()
    const resource = invitationResource(ctx, tx, { ...row, status: 'revoked', updatedAt: now })
    emit(tx, ctx, 'organizationInvitation.revoked', resource)
    return resource
  })
}

// ---- accepting ----------------------------------------------------------------------------

export const findOrgInvitationByTicket = (ctx: EnvContext, ticket: string): OrgInvitationRow | null =>
  ctx.db
    .select()
    .from(organizationInvitations)
    .where(eq(organizationInvitations.ticketHash, sha256Hex(ticket)))
    .get() ?? null

export const findOrgInvitation = (ctx: EnvContext, id: string): OrgInvitationRow | null =>
  ctx.db.select().from(organizationInvitations).where(eq(organizationInvitations.id, id)).get() ?? null

/**
 * Accepts an invitation for a user in the caller's transaction: the user becomes a member in the
 * invited role, with the invitation's metadata. `strict` (the signed-in accept) refuses when
 * they are a member already; ticket flows just use the ticket up.
 */
export function acceptOrgInvitation(
  tx: EnvTx,
  ctx: EnvContext,
  invitation: OrgInvitationRow,
  userId: string,
  strict: boolean,
) {
  const now = ctx.clock.now()
  const row = tx
    .select()
    .from(organizationInvitations)
    .where(eq(organizationInvitations.id, invitation.id))
    .get()
  const status = row ? invitationStatus(row, now) : 'revoked'
  if (!row || status !== 'pending') throw notPending(status)
  const org = tx.select().from(organizations).where(eq(organizations.id, row.organizationId)).get()
  if (!org) throw notFound('organization')
  const member = findMembership(tx, org.id, userId)
  if (member && strict) throw alreadyMember()
  tx.update(organizationInvitations)
    .set({ status: 'accepted', updatedAt: now })
    .where(eq(organizationInvitations.id, row.id))
    .run()
  if (!member) {
    const role =
      (row.roleId ? tx.select().from(roles).where(eq(roles.id, row.roleId)).get() : undefined) ??
      roleByKey(tx, ctx.settings().organizations.default_role)
    if (!role) throw notFound('role')
    insertMembership(tx, ctx, {
      org,
      userId,
      role,
      // The pending invitation held this seat.
      checkRoom: false,
      publicMetadata: row.publicMetadata,
      privateMetadata: row.privateMetadata,
    })
  }
  const accepted = { ...row, status: 'accepted' as const, updatedAt: now }
  emit(tx, ctx, 'organizationInvitation.accepted', {
    ...invitationResource(ctx, tx, accepted),
    user_id: userId,
  })
  return accepted
}

/** Pending invitations to any of these addresses, newest first (FAPI). */
export function pendingInvitationsFilter(emails: string[], now: number, exceptOrgs: string[]) {
  return and(
    inArray(organizationInvitations.emailAddress, emails.length ? emails : ['']),
    eq(organizationInvitations.status, 'pending'),
    gt(organizationInvitations.expireAt, now),
    exceptOrgs.length ? notInArray(organizationInvitations.organizationId, exceptOrgs) : undefined,
  )
}
