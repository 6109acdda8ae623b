import {
  acceptOrgInvitation,
  findOrgInvitation,
  findOrgInvitationByTicket,
} from '../domain/organizations/invitations'
import type { OrgInvitationRow } from '../domain/organizations/schema'
import { storedRedirect } from '../domain/redirects/service'
import type { InvitationRow, SignInTokenRow } from '../domain/tickets/schema'
import {
  acceptInvitation,
  acceptSignInToken,
  findInvitation,
  invitationByTicket,
  signInTokenByTicket,
  ticketError,
} from '../domain/tickets/service'
import { findUserIdByIdentifier } from '../domain/users/identifiers'
import { isId } from '../lib/ids'
import type { EnvContext } from '../tenancy/context'
import type { EnvTx } from '../tenancy/open'

/**
 * A ticket is a one-time secret in a link that proves who is coming: a sign-in token (minted by
 * the backend for a user), an instance invitation, or an organization invitation. Each source
 * says how its ticket is found, when it is no longer usable, who it is for, and how it is used up.
 */
export type Ticket =
  | { kind: 'sign_in_token'; row: SignInTokenRow }
  | { kind: 'invitation'; row: InvitationRow }
  | { kind: 'organization_invitation'; row: OrgInvitationRow }

type RowOf<K extends Ticket['kind']> = Extract<Ticket, { kind: K }>['row']

interface TicketSource<K extends Ticket['kind']> {
  kind: K
  find(ctx: EnvContext, raw: string): RowOf<K> | null
  /** Throws the source's own error when the ticket was used, revoked or has expired. */
  assertUsable(row: RowOf<K>, now: number): void
  /** The user the ticket is for, if they have an account. */
  userId(ctx: EnvContext, row: RowOf<K>): string | null
  /** Uses the ticket up in the transaction that signs in or signs up with it. */
  accept(tx: EnvTx, ctx: EnvContext, row: RowOf<K>, userId: string): void
  /** An invitation's own landing page. */
  redirectUrl(row: RowOf<K>): string | null
  /** Where `/v1/tickets/accept` sends the person: sign in, or sign up. */
  signsUp(ctx: EnvContext, row: RowOf<K>): boolean
}

const expired = () => ticketError('ticket_expired_code', 'This ticket has expired.')

const signInTokens: TicketSource<'sign_in_token'> = {
  kind: 'sign_in_token',
  find: signInTokenByTicket,
  assertUsable(row, now) {
    if (row.status === 'accepted')
      throw ticketError('sign_in_token_already_used_code', 'This sign-in token has been used.')
    if (row.status === 'revoked')
      throw ticketError('sign_in_token_revoked_code', 'This sign-in token was revoked.')
    if (now >= row.expireAt) throw expired()
  },
  userId: (_ctx, row) => row.userId,
  accept: (tx, ctx, row) => acceptSignInToken(tx, ctx, row),
  redirectUrl: () => null,
  signsUp: () => false,
}

const invitations: TicketSource<'invitation'> = {
  kind: 'invitation',
  find: invitationByTicket,
  assertUsable(row, now) {
    if (row.status === 'accepted')
      throw ticketError('invitation_already_accepted', 'This invitation has been accepted.')
    if (row.status === 'revoked') throw ticketError('revoked_invitation', 'This invitation was revoked.')
    if (now >= row.expireAt) throw expired()
  },
  userId: (ctx, row) => findUserIdByIdentifier(ctx, row.emailAddress),
  accept: acceptInvitation,
  redirectUrl: (row) => row.redirectUrl,
  signsUp: () => true,
}

const organizationInvitations: TicketSource<'organization_invitation'> = {
  kind: 'organization_invitation',
  find: findOrgInvitationByTicket,
  assertUsable(row, now) {
    if (row.status === 'accepted')
      throw ticketError('organization_invitation_already_accepted', 'This invitation has been accepted.')
    if (row.status === 'revoked') throw ticketError('revoked_invitation', 'This invitation was revoked.')
    if (now >= row.expireAt) throw expired()
  },
  userId: (ctx, row) => findUserIdByIdentifier(ctx, row.emailAddress),
  // The invitee joins the organization in the invited role, in this same transaction.
  accept: (tx, ctx, row, userId) => {
    acceptOrgInvitation(tx, ctx, row, userId, false)
  },
  redirectUrl: (row) => row.redirectUrl,
  // Whoever has the address signs in; anyone else signs up with it.
  signsUp: (ctx, row) => findUserIdByIdentifier(ctx, row.emailAddress) === null,
}

const SOURCES = [signInTokens, invitations, organizationInvitations] as const
const sourceOf = <K extends Ticket['kind']>(kind: K) =>
  SOURCES.find((s) => s.kind === kind) as unknown as TicketSource<K>

/** Looks a ticket up and checks it is still usable; it is used up in the flow's transaction. */
export function inspectTicket(ctx: EnvContext, raw: string): Ticket {
  const now = ctx.clock.now()
  for (const source of SOURCES) {
    const row = (source as TicketSource<Ticket['kind']>).find(ctx, raw)
    if (!row) continue
    ;(source as TicketSource<Ticket['kind']>).assertUsable(row as never, now)
    return { kind: source.kind, row } as Ticket
  }
  throw ticketError('ticket_invalid_code', 'The ticket is invalid.')
}

/** The user a ticket is for, if they have an account. */
export const ticketUserId = (ctx: EnvContext, t: Ticket) => sourceOf(t.kind).userId(ctx, t.row as never)

/** Uses the ticket up inside the transaction that signs in or signs up with it. */
export const consumeTicket = (tx: EnvTx, ctx: EnvContext, t: Ticket, userId: string) =>
  sourceOf(t.kind).accept(tx, ctx, t.row as never, userId)

/** A still-pending invitation a sign-up presented (instance or organization invitation). */
export function invitationTicketById(ctx: EnvContext, id: string): Ticket | null {
  if (isId('invitation', id)) {
    const row = findOrgInvitation(ctx, id)
    return row?.status === 'pending' ? { kind: 'organization_invitation', row } : null
  }
  const row = findInvitation(ctx, id)
  return row?.status === 'pending' ? { kind: 'invitation', row } : null
}

/** What the app should do with a ticket (`__authn_status`). */
export const ticketStatus = (ctx: EnvContext, t: Ticket): 'sign_in' | 'sign_up' =>
  sourceOf(t.kind).signsUp(ctx, t.row as never) ? 'sign_up' : 'sign_in'

/** Where `/v1/tickets/accept` forwards a browser: the ticket's own redirect or the app's. */
export function ticketLanding(ctx: EnvContext, t: Ticket): string | null {
  const settings = ctx.settings()
  return (
    storedRedirect(ctx, sourceOf(t.kind).redirectUrl(t.row as never)) ??
    settings.redirect_urls[0] ??
    settings.allowed_origins[0] ??
    null
  )
}
