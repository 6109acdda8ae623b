import { and, eq, gt, lte, or } from 'drizzle-orm'
import { randomToken, sha256Hex } from '../../crypto/secrets'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { formError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { queueMessage } from '../messages/service'
import { assertStoredRedirect } from '../redirects/service'
import { emailOwner, normalizeEmail } from '../users/identifiers'
import { checkMetadata } from '../users/metadata'
import { findUser } from '../users/service'
import { invitationNotPending, ticketError } from './errors'
import { type InvitationRow, invitations, type SignInTokenRow, signInTokens } from './schema'

export { ticketError }

/** The URL a ticket travels in: the Frontend API's accept endpoint, which forwards to the app. */
export const ticketUrl = (ctx: EnvContext, ticket: string) =>
  `${ctx.frontendUrl()}/v1/tickets/accept?ticket=${encodeURIComponent(ticket)}`

// ---- sign-in tokens -----------------------------------------------------------------------

const toSignInToken = (r: SignInTokenRow, now: number, ticket?: string) => ({
  object: 'sign_in_token' as const,
  id: r.id,
  user_id: r.userId,
  status: r.status === 'pending' && now >= r.expireAt ? 'expired' : r.status,
  expire_at: r.expireAt,
  ...(ticket ? { token: ticket } : {}),
  url: ticket ? (null as string | null) : null,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
})

export function createSignInToken(ctx: EnvContext, input: { user_id: string; expires_in_seconds?: number }) {
  if (!findUser(ctx, input.user_id))
    throw formError('form_param_value_invalid', 'user_id', 'is unknown', 'No user has that id.')
  const now = ctx.clock.now()
  const ticket = `sit_${randomToken(32)}`
  const row: SignInTokenRow = {
    id: newId('signInToken'),
    userId: input.user_id,
    ticketHash: sha256Hex(ticket),
    status: 'pending',
    expireAt: now + (input.expires_in_seconds ?? 30 * 86400) * 1000,
    createdAt: now,
    updatedAt: now,
  }
  return withTx(ctx, (tx) => {
    tx.insert(signInTokens).values(row).run()
    const resource = { ...toSignInToken(row, now, ticket), url: ticketUrl(ctx, ticket) }
    emit(tx, ctx, 'signInToken.created', { ...toSignInToken(row, now), url: null })
    return resource
  })
}

export function revokeSignInToken(ctx: EnvContext, id: string) {
  if (!isId('signInToken', id)) throw notFound('sign-in token')
  return withTx(ctx, (tx) => {
    const row = tx.select().from(signInTokens).where(eq(signInTokens.id, id)).get()
    if (!row) throw notFound('sign-in token')
    if (row.status !== 'pending')
      throw ticketError('sign_in_token_cannot_be_revoked', `The sign-in token is ${row.status}.`)
    const now = ctx.clock.now()
    tx.update(signInTokens).set({ status: 'revoked', updatedAt: now }).where(eq(signInTokens.id, id)).run()
    const resource = toSignInToken({ ...row, status: 'revoked', updatedAt: now }, now)
    emit(tx, ctx, 'signInToken.revoked', resource)
    return resource
  })
}

// ---- invitations --------------------------------------------------------------------------

export const toInvitation = (r: InvitationRow, now: number) => ({
  object: 'invitation' as const,
  id: r.id,
  email_address: r.emailAddress,
  public_metadata: r.publicMetadata,
  status: r.status === 'pending' && now >= r.expireAt ? ('expired' as const) : r.status,
  /** Clerk's flag beside the status (its SDKs read `revoked`). */
  revoked: r.status === 'revoked',
  redirect_url: r.redirectUrl,
  url: null as string | null,
  expire_at: r.expireAt,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
})
export type InvitationResource = ReturnType<typeof toInvitation>

export interface CreateInvitation {
  email_address: string
  public_metadata?: Record<string, unknown>
  redirect_url?: string
  notify?: boolean
  expires_in_days?: number
  ignore_existing?: boolean
}

function insertInvitation(
  tx: EnvTx,
  ctx: EnvContext,
  after: (e: () => unknown) => void,
  input: CreateInvitation,
  param: string,
): InvitationResource {
  const email = normalizeEmail(input.email_address, param)
  // The item's own redirect_url: `redirect_url`, or `3.redirect_url` in a bulk request.
  if (input.redirect_url !== undefined)
    assertStoredRedirect(ctx, input.redirect_url, undefined, param.replace(/email_address$/, 'redirect_url'))
  // It becomes the user's public metadata at sign-up: the same bounds as a user's.
  if (input.public_metadata) {
    checkMetadata(param.replace(/email_address$/, 'public_metadata'), input.public_metadata)
  }
  const now = ctx.clock.now()
  if (!input.ignore_existing) {
    if (emailOwner(tx, email)) {
      throw formError(
        'form_identifier_exists',
        param,
        'has an account',
        `${email} already belongs to a user.`,
      )
    }
    const pending = tx
      .select()
      .from(invitations)
      .where(and(eq(invitations.emailAddress, email), eq(invitations.status, 'pending')))
      .all()
      .find((i) => i.expireAt > now)
    if (pending)
      throw formError(
        'duplicate_record',
        param,
        'already invited',
        `${email} already has a pending invitation.`,
      )
  }
  const ticket = `inv_${randomToken(32)}`
  const row: InvitationRow = {
    id: newId('instanceInvitation'),
    emailAddress: email,
    publicMetadata: input.public_metadata ?? {},
    ticketHash: sha256Hex(ticket),
    redirectUrl: input.redirect_url ?? null,
    status: 'pending',
    expireAt: now + (input.expires_in_days ?? 30) * 86400_000,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(invitations).values(row).run()
  const url = ticketUrl(ctx, ticket)
  if (input.notify !== false) {
    queueMessage(tx, ctx, after, {
      channel: 'email',
      template: 'invitation',
      to: email,
      vars: { action_url: url },
      secret: true,
    })
  }
  emit(tx, ctx, 'invitation.created', toInvitation(row, now))
  return { ...toInvitation(row, now), url }
}

export const createInvitation = (ctx: EnvContext, input: CreateInvitation) =>
  withTx(ctx, (tx, after) => insertInvitation(tx, ctx, after, input, 'email_address'))

/** All or nothing: one bad address fails the whole batch. */
export const createInvitations = (ctx: EnvContext, inputs: CreateInvitation[]) =>
  withTx(ctx, (tx, after) =>
    inputs.map((input, i) => insertInvitation(tx, ctx, after, input, `${i}.email_address`)),
  )

export function listInvitations(
  ctx: EnvContext,
  q: { status?: string; cursor?: string; limit?: number },
): Page<InvitationResource> {
  const now = ctx.clock.now()
  // `expired` is derived from expire_at, so the filter says it in SQL the same way.
  const pendingNow = and(eq(invitations.status, 'pending'), gt(invitations.expireAt, now))
  const filter =
    q.status === 'pending'
      ? pendingNow
      : q.status === 'expired'
        ? or(
            eq(invitations.status, 'expired'),
            and(eq(invitations.status, 'pending'), lte(invitations.expireAt, now)),
          )
        : q.status
          ? eq(invitations.status, q.status as InvitationRow['status'])
          : undefined
  const page = tablePage(ctx, invitations, filter, q)
  return pageOf(
    page.rows.map((r) => toInvitation(r, now)),
    page.next_cursor,
    page.total,
  )
}

export function revokeInvitation(ctx: EnvContext, id: string) {
  if (!isId('instanceInvitation', id)) throw notFound('invitation')
  return withTx(ctx, (tx) => {
    const row = tx.select().from(invitations).where(eq(invitations.id, id)).get()
    if (!row) throw notFound('invitation')
    const now = ctx.clock.now()
    if (toInvitation(row, now).status !== 'pending') {
      throw invitationNotPending(toInvitation(row, now).status)
    }
    tx.update(invitations).set({ status: 'revoked', updatedAt: now }).where(eq(invitations.id, id)).run()
    const resource = toInvitation({ ...row, status: 'revoked', updatedAt: now }, now)
    emit(tx, ctx, 'invitation.revoked', resource)
    return resource
  })
}

// ---- consuming tickets (the Ticket union is src/flows/tickets.ts) -------------------------

export const signInTokenByTicket = (ctx: EnvContext, ticket: string): SignInTokenRow | null =>
  ctx.db
    .select()
    .from(signInTokens)
    .where(eq(signInTokens.ticketHash, sha256Hex(ticket)))
    .get() ?? null

export const invitationByTicket = (ctx: EnvContext, ticket: string): InvitationRow | null =>
  ctx.db
    .select()
    .from(invitations)
    .where(eq(invitations.ticketHash, sha256Hex(ticket)))
    .get() ?? null

export const findInvitation = (ctx: EnvContext, id: string): InvitationRow | null =>
  isId('instanceInvitation', id)
    ? (ctx.db.select().from(invitations).where(eq(invitations.id, id)).get() ?? null)
    : null

/** Uses a sign-in token up; the transaction holds the write lock, so checking then updating cannot race. */
export function acceptSignInToken(tx: EnvTx, ctx: EnvContext, row: SignInTokenRow) {
  const current = tx
    .select({ status: signInTokens.status })
    .from(signInTokens)
    .where(eq(signInTokens.id, row.id))
    .get()
  if (current?.status !== 'pending')
    throw ticketError('sign_in_token_already_used_code', 'This sign-in token has been used.')
  tx.update(signInTokens)
    .set({ status: 'accepted', updatedAt: ctx.clock.now() })
    .where(eq(signInTokens.id, row.id))
    .run()
}

/** Marks an instance invitation accepted by the user it signed up or in. */
export function acceptInvitation(tx: EnvTx, ctx: EnvContext, row: InvitationRow, userId: string) {
  const now = ctx.clock.now()
  const current = tx
    .select({ status: invitations.status })
    .from(invitations)
    .where(eq(invitations.id, row.id))
    .get()
  if (current?.status !== 'pending')
    throw ticketError('invitation_already_accepted', 'This invitation has been accepted.')
  tx.update(invitations).set({ status: 'accepted', updatedAt: now }).where(eq(invitations.id, row.id)).run()
  emit(tx, ctx, 'invitation.accepted', {
    ...toInvitation({ ...row, status: 'accepted', updatedAt: now }, now),
    user_id: userId,
  })
}
