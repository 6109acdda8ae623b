import { type After, withTx } from '../../db/tx'
import type { ChallengeRow } from '../../domain/challenges/schema'
import {
  answerWithCode,
  failChallenge,
  findChallengeById,
  issueDecoyChallenge,
  latestRedirectChallenge,
  markTransferable,
  markVerified,
  requireChallenge,
  toChallengeResource,
} from '../../domain/challenges/service'
import { type ClientActor, ensureClient, updateClient } from '../../domain/clients/service'
import { queueMessage } from '../../domain/messages/service'
import { assertAllowedRedirect } from '../../domain/redirects/service'
import { findSignIn } from '../../domain/sign-ins/store'
import type { SignUpRow } from '../../domain/sign-ups/schema'
import { findSignUp, insertSignUp, requireClientSignUp, updateSignUp } from '../../domain/sign-ups/store'
import {
  assertIdentifiersFree,
  emailOwner,
  normalizeEmail,
  normalizePhone,
  normalizeUsername,
  phoneOwner,
} from '../../domain/users/identifiers'
import { checkMetadata } from '../../domain/users/metadata'
import { checkPasswordPolicy } from '../../domain/users/password-policy'
import { insertUser, loadUser } from '../../domain/users/service'
import { AppError, formError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { clientStateInvalid, strategyInvalid } from '../errors'
import {
  defaultVerification,
  type ExternalIdentity,
  type Factor,
  type FactorOutcome,
  factorEnabled,
  factorFor,
  factorOfStrategy,
  type IdentifierVerifier,
  type PrepareInput,
  passwordFactor,
  ticketFactor,
  VERIFIERS,
} from '../factors'
import { notACode } from '../factors/shared'
import { establishSession } from '../session-door'
import { consumeTicket, inspectTicket, invitationTicketById, type Ticket } from '../tickets'
import { progress, toSignUpResource } from './view'

/**
 * The sign-up state machine: fields are collected and identifiers verified (by the registry's
 * verifiers) until nothing is missing; then the user and its first session are created in the
 * same transaction, through the session door.
 */

export interface SignUpInput {
  email_address?: string
  phone_number?: string
  username?: string
  password?: string
  first_name?: string
  last_name?: string
  unsafe_metadata?: Record<string, unknown>
  ticket?: string
  strategy?: string
  redirect_url?: string
  /** Take over the external identity the client's sign-in found no user for. */
  transfer?: boolean
}

const disabled = (param: string) =>
  formError(
    'form_param_unknown',
    param,
    'is not enabled',
    `${param} is not collected at sign-up on this instance.`,
  )

/** Validates and normalizes the fields of a create or update; hashing happens here, outside any transaction. */
async function prepareFields(ctx: EnvContext, input: SignUpInput) {
  const s = ctx.settings()
  const out: Partial<SignUpRow> = {}
  if (input.email_address !== undefined) {
    if (!s.identifiers.email_address.enabled) throw disabled('email_address')
    out.emailAddress = normalizeEmail(input.email_address)
    out.emailVerified = false
    out.emailChallengeId = null
  }
  if (input.phone_number !== undefined) {
    if (!s.identifiers.phone_number.enabled) throw disabled('phone_number')
    out.phoneNumber = normalizePhone(input.phone_number)
    out.phoneVerified = false
    out.phoneChallengeId = null
  }
  if (input.username !== undefined) {
    if (!s.identifiers.username.enabled) throw disabled('username')
    out.username = normalizeUsername(input.username, s)
  }
  if (input.first_name !== undefined) {
    if (s.names.first_name === 'off') throw disabled('first_name')
    out.firstName = input.first_name.trim() || null
  }
  if (input.last_name !== undefined) {
    if (s.names.last_name === 'off') throw disabled('last_name')
    out.lastName = input.last_name.trim() || null
  }
  if (input.unsafe_metadata !== undefined)
    out.unsafeMetadata = checkMetadata('unsafe_metadata', input.unsafe_metadata)
  if (input.password !== undefined) {
    if (!factorEnabled(s, passwordFactor)) throw disabled('password')
    checkPasswordPolicy(input.password, s.password)
    out.passwordDigest = await ctx.passwords.hash(input.password)
  }
  return out
}

/**
 * Completes the sign-up once nothing is missing or unverified: the user and its first session
 * are created in the same transaction. `actor` is the requesting device (null when a magic link
 * opened elsewhere completes it).
 */
function completeIfReady(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  r: SignUpRow,
  ticket: Ticket | null,
): SignUpRow {
  if (r.status !== 'missing_requirements') return r
  const p = progress(ctx, r)
  if (p.missing.length || p.unverified.length) return r
  const created = insertUser(tx, ctx, {
    emails: r.emailAddress
      ? [
          {
            address: r.emailAddress,
            strategy: r.emailVerificationStrategy ?? defaultVerification('email_address'),
          },
        ]
      : [],
    phones: r.phoneNumber ? [{ number: r.phoneNumber, strategy: defaultVerification('phone_number') }] : [],
    username: r.username,
    externalId: null,
    firstName: r.firstName,
    lastName: r.lastName,
    passwordDigest: r.passwordDigest,
    publicMetadata: r.publicMetadata,
    privateMetadata: {},
    unsafeMetadata: r.unsafeMetadata,
  })
  if (ticket) consumeTicket(tx, ctx, ticket, created.id)
  if (r.transferChallengeId) linkTransferred(tx, ctx, r.transferChallengeId, created.id)
  const session = establishSession(tx, ctx, r.clientId, loadUser(tx, created.id)!, {
    factorsVerified: { first: true, second: false },
    strategy: r.emailVerificationStrategy ?? 'sign_up',
    actor,
  })
  return updateSignUp(tx, ctx, r, {
    status: 'complete',
    createdUserId: created.id,
    createdSessionId: session.id,
    passwordDigest: null,
  })
}

/**
 * Identifiers must be free. Under enumeration protection an email address or phone number that
 * has an account is not revealed here: the sign-up goes on, and its verification can never
 * succeed (see issueSignUpChallenge); usernames are public handles and stay checked.
 */
function assertFree(tx: EnvTx, ctx: EnvContext, fields: Partial<SignUpRow>) {
  assertIdentifiersFree(tx, ctx.settings().enumeration_protection ? { username: fields.username } : fields)
}

/** Under enumeration protection, is this sign-up identifier someone's account already? */
function takenUnderProtection(ctx: EnvContext, kind: 'email_address' | 'phone_number', value: string) {
  if (!ctx.settings().enumeration_protection) return false
  return (kind === 'email_address' ? emailOwner(ctx.db, value) : phoneOwner(ctx.db, value)) !== null
}

/** The transferable external identity of the client's current sign-in, or 400. */
function transferSource(ctx: EnvContext, actor: ClientActor) {
  const signIn = actor.client?.signInId ? findSignIn(ctx.db, actor.client.signInId) : null
  const c = signIn?.firstFactorChallengeId ? findChallengeById(ctx.db, signIn.firstFactorChallengeId) : null
  if (c?.status !== 'transferable' || !c.payload)
    throw clientStateInvalid(
      'There is nothing to transfer: no sign-in of this client found an unknown external account.',
    )
  return { challenge: c, identity: c.payload as unknown as ExternalIdentity }
}

/** The new user takes the transferred identity over: its factor links it; the proof is used up. */
function linkTransferred(tx: EnvTx, ctx: EnvContext, challengeId: string, userId: string) {
  const c = findChallengeById(tx, challengeId)
  if (c?.status !== 'transferable') throw clientStateInvalid('The external account was already taken over.')
  factorOfStrategy(ctx, c.strategy)?.onTransferred?.(
    tx,
    ctx,
    userId,
    c.payload as unknown as ExternalIdentity,
  )
  markVerified(tx, ctx, c)
}

function assertModeAllows(ctx: EnvContext, ticket: Ticket | null) {
  const mode = ctx.settings().sign_up.mode
  if (mode === 'public' || ticket) return
  if (mode === 'restricted') {
    throw new AppError(403, [
      {
        code: 'sign_up_mode_restricted',
        message: 'sign-ups are restricted',
        long_message: 'Sign-ups need an invitation on this instance.',
      },
    ])
  }
  throw new AppError(403, [
    {
      code: 'sign_up_restricted_waitlist',
      message: 'waitlist only',
      long_message: 'Sign-ups are open to the waitlist only.',
    },
  ])
}

type InvitationTicket = Extract<Ticket, { kind: 'invitation' | 'organization_invitation' }>

/** Instance and organization invitations sign up; sign-in tokens do not. */
function invitationTicket(ctx: EnvContext, raw: string | undefined): InvitationTicket | null {
  if (!raw) return null
  const ticket = inspectTicket(ctx, raw)
  if (ticket.kind === 'sign_in_token') {
    throw formError(
      'ticket_invalid_code',
      'ticket',
      'is not an invitation',
      'Sign up with an invitation ticket; sign-in tokens sign in.',
    )
  }
  return ticket
}

const ticketOf = (ctx: EnvContext, r: SignUpRow): Ticket | null =>
  r.invitationId ? invitationTicketById(ctx, r.invitationId) : null

/**
 * A sign-up started with a redirect factor (`strategy: oauth_<key>` + `redirect_url`, as Clerk):
 * the registry's factor that anyone may use and that finds its user at the provider; null when
 * the request names no such strategy (a ticket's strategy names the ticket).
 */
function redirectFactorOf(ctx: EnvContext, actor: ClientActor, input: SignUpInput): Factor | null {
  if (!input.strategy || input.strategy === ticketFactor.strategy || input.transfer) return null
  const factor = factorFor(ctx, input.strategy, ['first'])
  if (factor?.answer !== 'redirect' || !factor.anonymousOptions?.(ctx).length)
    throw strategyInvalid(input.strategy)
  factor.validatePrepare?.(ctx, actor, { redirect_url: input.redirect_url })
  if (input.redirect_url) assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
  return factor
}

export async function createSignUp(ctx: EnvContext, actor: ClientActor, input: SignUpInput) {
  const ticket = invitationTicket(ctx, input.ticket)
  assertModeAllows(ctx, ticket)
  const external = redirectFactorOf(ctx, actor, input)
  const fields = await prepareFields(ctx, input)
  const transfer = input.transfer ? transferSource(ctx, actor) : null
  if (transfer) {
    const { identity, challenge } = transfer
    if (identity.emailAddress) {
      fields.emailAddress = normalizeEmail(identity.emailAddress)
      fields.emailVerified = identity.emailVerified
      fields.emailVerificationStrategy = identity.emailVerified ? challenge.strategy : null
    }
    fields.firstName ??= identity.firstName
    fields.lastName ??= identity.lastName
    fields.transferChallengeId = challenge.id
  }
  if (ticket) {
    // The invitation proves the invited address.
    if (fields.emailAddress && fields.emailAddress !== ticket.row.emailAddress) {
      throw formError(
        'form_param_value_invalid',
        'email_address',
        'does not match',
        'The email address must be the invited one.',
      )
    }
    fields.emailAddress = ticket.row.emailAddress
    fields.emailVerified = true
    fields.emailVerificationStrategy = ticketFactor.strategy
  }
  const row = withTx(ctx, (tx, after) => {
    const client = ensureClient(tx, ctx, actor)
    assertFree(tx, ctx, fields)
    const r = insertSignUp(tx, ctx, {
      clientId: client.id,
      publicMetadata: ticket?.kind === 'invitation' ? ticket.row.publicMetadata : {},
      invitationId: ticket?.row.id ?? null,
      ...fields,
    })
    updateClient(tx, ctx, actor, { signUpId: r.id })
    if (external) {
      // The provider's callback completes it (applyExternalToSignUp).
      external.prepare({
        tx,
        ctx,
        after,
        actor,
        parent: { type: 'sign_up', id: r.id, clientId: client.id },
        option: external.anonymousOptions!(ctx)[0]!,
        input: { redirect_url: input.redirect_url },
        user: null,
        identifier: null,
      })
      return r
    }
    return completeIfReady(tx, ctx, actor, r, ticket)
  })
  return toSignUpResource(ctx, row)
}

function requireOpenSignUp(ctx: EnvContext, actor: ClientActor, id: string): SignUpRow {
  const row = requireClientSignUp(ctx, actor.client?.id, id)
  if (row.status === 'complete') throw clientStateInvalid('This sign-up is already complete.')
  if (row.status === 'abandoned' || ctx.clock.now() >= row.abandonAt)
    throw clientStateInvalid('This sign-up has expired. Start a new one.')
  return row
}

export async function updateSignUpFields(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: SignUpInput,
) {
  const current = requireOpenSignUp(ctx, actor, id)
  if (input.ticket)
    throw formError(
      'form_param_unknown',
      'ticket',
      'cannot change',
      'A ticket is given when the sign-up is created.',
    )
  const fields = await prepareFields(ctx, input)
  if (current.invitationId !== null && fields.emailAddress && fields.emailAddress !== current.emailAddress) {
    throw formError(
      'form_param_value_invalid',
      'email_address',
      'cannot change',
      'The invited email address cannot change.',
    )
  }
  if (fields.emailAddress === current.emailAddress) {
    delete fields.emailAddress
    delete fields.emailVerified
    delete fields.emailChallengeId
  }
  const ticket = ticketOf(ctx, current)
  const row = withTx(ctx, (tx) => {
    assertFree(tx, ctx, fields)
    return completeIfReady(tx, ctx, actor, updateSignUp(tx, ctx, current, fields), ticket)
  })
  return toSignUpResource(ctx, row)
}

export const getSignUp = (ctx: EnvContext, actor: ClientActor, id: string) =>
  toSignUpResource(ctx, requireClientSignUp(ctx, actor.client?.id, id))

/** Where one kind of identifier lives on the sign-up row. */
const FIELDS = {
  email_address: {
    value: (r: SignUpRow) => r.emailAddress,
    verified: (r: SignUpRow) => r.emailVerified,
    challengeId: (r: SignUpRow) => r.emailChallengeId,
    setChallenge: (id: string) => ({ emailChallengeId: id }),
    verify: (strategy: string) => ({ emailVerified: true, emailVerificationStrategy: strategy }),
    label: 'email address',
  },
  phone_number: {
    value: (r: SignUpRow) => r.phoneNumber,
    verified: (r: SignUpRow) => r.phoneVerified,
    challengeId: (r: SignUpRow) => r.phoneChallengeId,
    setChallenge: (id: string) => ({ phoneChallengeId: id }),
    verify: (_strategy: string) => ({ phoneVerified: true }),
    label: 'phone number',
  },
} as const

export function issueSignUpChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: PrepareInput & { strategy: string },
) {
  const r = requireOpenSignUp(ctx, actor, id)
  const verifier = VERIFIERS.find((v) => v.strategy === input.strategy)
  if (!verifier)
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is invalid',
      `${input.strategy} does not verify a sign-up.`,
    )
  const field = FIELDS[verifier.verifies]
  const value = field.value(r)
  if (!value) throw formParamMissing(verifier.verifies)
  if (field.verified(r))
    throw new AppError(400, [
      {
        code: 'verification_already_verified',
        message: 'already verified',
        long_message: `The ${field.label} is already verified.`,
      },
    ])
  if (!verifier.enabled(ctx.settings(), 'sign_up'))
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is not enabled',
      `${input.strategy} is not enabled on this instance.`,
    )
  verifier.validatePrepare?.(ctx, actor, input)
  const taken = takenUnderProtection(ctx, verifier.verifies, value)
  const challenge = withTx(ctx, (tx, after) => {
    const parent = { type: 'sign_up' as const, id: r.id, clientId: r.clientId }
    const c = taken
      ? existingAccountDecoy(tx, ctx, after, parent, verifier, value)
      : verifier.prepareVerification({
          tx,
          ctx,
          after,
          actor,
          parent,
          target: { id: null, value },
          purpose: 'sign_up',
          redirectUrl: input.redirect_url,
        })
    updateSignUp(tx, ctx, r, field.setChallenge(c.id))
    return c
  })
  return toChallengeResource(challenge, ctx.clock.now())
}

/**
 * Enumeration protection: a sign-up with someone's address or number gets a challenge that looks
 * and fails like any other (a code nobody has); the owner of an address is told by email.
 */
function existingAccountDecoy(
  tx: EnvTx,
  ctx: EnvContext,
  after: After,
  parent: { type: 'sign_up'; id: string; clientId: string },
  verifier: IdentifierVerifier,
  value: string,
) {
  const c = issueDecoyChallenge(
    tx,
    ctx,
    {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'verification',
      strategy: verifier.strategy,
    },
    value,
  )
  if (verifier.verifies === 'email_address')
    queueMessage(tx, ctx, after, {
      channel: 'email',
      template: 'sign_up_existing_account',
      to: value,
      vars: {},
      secret: false,
    })
  return c
}

export function getSignUpChallenge(ctx: EnvContext, actor: ClientActor, id: string, cid: string) {
  const r = requireClientSignUp(ctx, actor.client?.id, id)
  return toChallengeResource(requireChallenge(ctx, 'sign_up', r.id, cid), ctx.clock.now())
}

const verifierOf = (c: ChallengeRow): IdentifierVerifier => VERIFIERS.find((v) => v.strategy === c.strategy)!

export function answerSignUpChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  cid: string,
  input: { code?: string },
) {
  const own = requireClientSignUp(ctx, actor.client?.id, id)
  const c = requireChallenge(ctx, 'sign_up', own.id, cid)
  const verifier = verifierOf(c)
  if (verifier.answer === 'link') {
    if (input.code !== undefined) throw notACode()
    if (c.status === 'verified') return toSignUpResource(ctx, own)
    throw clientStateInvalid('The link in the email has not been opened yet.', 'not opened yet')
  }
  const r = requireOpenSignUp(ctx, actor, id)
  // Only the current challenge of the identifier as it is now: after a PATCH changed the
  // address, a code sent to the old one proves nothing about the new one.
  const field = FIELDS[verifier.verifies]
  if (c.id !== field.challengeId(r) || c.target !== field.value(r))
    throw new AppError(400, [
      {
        code: 'verification_stale',
        message: 'stale',
        long_message: 'This challenge is for an identifier the sign-up no longer has. Ask for a new one.',
      },
    ])
  if (input.code === undefined) throw formParamMissing('code')
  const ticket = ticketOf(ctx, r)
  const row = answerWithCode(ctx, c, input.code, (tx) =>
    completeIfReady(tx, ctx, actor, updateSignUp(tx, ctx, r, field.verify(c.strategy)), ticket),
  )
  return toSignUpResource(ctx, row)
}

/**
 * A magic link of this sign-up was opened (src/flows/links.ts): the address is verified and the
 * sign-up completes if nothing else is missing; `here` is the opening device when it is the
 * sign-up's own client.
 */
export function completeSignUpByLink(
  tx: EnvTx,
  ctx: EnvContext,
  here: ClientActor | null,
  challenge: ChallengeRow,
): string | null {
  const r = findSignUp(tx, challenge.parentId)
  if (r?.status !== 'missing_requirements' || r.emailChallengeId !== challenge.id) return null
  const verified = updateSignUp(tx, ctx, r, FIELDS.email_address.verify(challenge.strategy))
  return completeIfReady(tx, ctx, here, verified, ticketOf(ctx, r)).createdSessionId
}

/**
 * The provider's callback for a sign-up started with a redirect factor, in its transaction. A new
 * identity: the sign-up takes the provider's profile over (email verified only if the provider
 * says so) and completes when nothing else is missing. An identity that is someone's already:
 * the sign-up becomes transferable to a sign-in (`POST /v1/client/sign-ins` with `transfer`), as
 * Clerk does; the factor's link or refresh is committed now.
 */
export function applyExternalToSignUp(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor,
  c: ChallengeRow,
  outcome: FactorOutcome,
): { status: string; session: string | null; error?: string } | null {
  const r = findSignUp(tx, c.parentId)
  if (r?.status !== 'missing_requirements' || latestRedirectChallenge(tx, 'sign_up', r.id)?.id !== c.id)
    return null
  if (outcome.kind === 'failed') {
    failChallenge(tx, ctx, c)
    return { status: 'failed', session: null, error: outcome.error.items[0]?.code }
  }
  if (outcome.kind === 'user') {
    outcome.commit?.(tx, ctx)
    markTransferable(tx, ctx, c, { userId: outcome.userId })
    return { status: 'transferable', session: null }
  }
  const identity = outcome.identity
  markTransferable(tx, ctx, c, { ...identity })
  const fields: Partial<SignUpRow> = { transferChallengeId: c.id }
  if (identity.emailAddress) {
    fields.emailAddress = normalizeEmail(identity.emailAddress)
    fields.emailVerified = identity.emailVerified
    fields.emailVerificationStrategy = identity.emailVerified ? c.strategy : null
    fields.emailChallengeId = null
  }
  fields.firstName = r.firstName ?? identity.firstName
  fields.lastName = r.lastName ?? identity.lastName
  assertFree(tx, ctx, fields)
  const done = completeIfReady(tx, ctx, actor, updateSignUp(tx, ctx, r, fields), ticketOf(ctx, r))
  return done.status === 'complete'
    ? { status: 'verified', session: done.createdSessionId }
    : { status: done.status, session: null }
}

/**
 * The user a sign-up's provider verification found (`transferable` with a user): a sign-in of
 * the same client takes it over. The proof is used up.
 */
export function transferableUserOf(tx: EnvTx, ctx: EnvContext, actor: ClientActor) {
  const r = actor.client?.signUpId ? findSignUp(tx, actor.client.signUpId) : null
  const c = r ? latestRedirectChallenge(tx, 'sign_up', r.id) : null
  const userId = c?.status === 'transferable' ? c.payload?.userId : undefined
  if (!c || typeof userId !== 'string')
    throw clientStateInvalid(
      'There is nothing to transfer: no sign-up of this client found an existing external account.',
    )
  return {
    userId,
    strategy: c.strategy,
    challengeId: c.id,
    consume: () => markVerified(tx, ctx, c, actor.client?.id ?? null),
  }
}
