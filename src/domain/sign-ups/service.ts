import { and, eq, inArray, lte } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { AppError, formError, formIdentifierExists, formParamMissing, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { challenges } from '../challenges/schema'
import {
  answerWithCode,
  issueCodeChallenge,
  issueLinkChallenge,
  requireChallenge,
  toChallengeResource,
} from '../challenges/service'
import { clients } from '../clients/schema'
import { type ClientActor, ensureClient, rotateClient, updateClient } from '../clients/service'
import { assertAllowedRedirect } from '../redirects/service'
import { createSession } from '../sessions/service'
import { consumeTicket, inspectTicket, invitationTicketById, type Ticket } from '../tickets/service'
import { normalizeEmail, normalizePhone, normalizeUsername } from '../users/identifiers'
import { checkMetadata } from '../users/metadata'
import { checkPasswordPolicy } from '../users/password-policy'
import { emailAddresses, phoneNumbers, users } from '../users/schema'
import { insertUser } from '../users/service'
import { type SignUpRow, signUps } from './schema'

/** An unfinished sign-up is abandoned after a day without progress. */
export const SIGN_UP_TTL_MS = 24 * 3600_000

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
}

type Field = 'email_address' | 'phone_number' | 'username' | 'password' | 'first_name' | 'last_name'

export function fieldsOf(ctx: EnvContext) {
  const s = ctx.settings()
  const required: Field[] = []
  const optional: Field[] = []
  const place = (f: Field, enabled: boolean, req: boolean) =>
    req ? required.push(f) : enabled ? optional.push(f) : undefined
  place('email_address', s.identifiers.email_address.enabled, s.identifiers.email_address.required)
  place('phone_number', s.identifiers.phone_number.enabled, s.identifiers.phone_number.required)
  place('username', s.identifiers.username.enabled, s.identifiers.username.required)
  place('password', s.first_factors.includes('password'), s.password.required)
  place('first_name', s.names.first_name !== 'off', s.names.first_name === 'required')
  place('last_name', s.names.last_name !== 'off', s.names.last_name === 'required')
  return { required, optional }
}

function progress(ctx: EnvContext, r: SignUpRow) {
  const s = ctx.settings()
  const { required, optional } = fieldsOf(ctx)
  const has: Record<Field, boolean> = {
    email_address: r.emailAddress !== null,
    phone_number: r.phoneNumber !== null,
    username: r.username !== null,
    password: r.passwordDigest !== null,
    first_name: r.firstName !== null,
    last_name: r.lastName !== null,
  }
  const missing = required.filter((f) => !has[f])
  // Someone must be able to sign in later: at least one identifier.
  if (!has.email_address && !has.phone_number && !has.username && !missing.length) {
    missing.push(
      s.identifiers.email_address.enabled
        ? 'email_address'
        : s.identifiers.phone_number.enabled
          ? 'phone_number'
          : 'username',
    )
  }
  const unverified: Field[] = []
  if (has.email_address && s.identifiers.email_address.verify_at_sign_up && !r.emailVerified)
    unverified.push('email_address')
  if (has.phone_number && s.identifiers.phone_number.verify_at_sign_up && !r.phoneVerified)
    unverified.push('phone_number')
  return { required, optional, missing, unverified }
}

function verificationOf(
  ctx: EnvContext,
  verified: boolean,
  challengeId: string | null,
  strategies: string[],
) {
  const c = challengeId
    ? ctx.db.select().from(challenges).where(eq(challenges.id, challengeId)).get()
    : undefined
  const challenge = c ? toChallengeResource(c, ctx.clock.now()) : null
  return {
    status: verified ? 'verified' : (challenge?.status ?? 'unverified'),
    strategy: challenge?.strategy ?? null,
    supported_strategies: strategies,
    next_action: verified ? '' : challenge ? 'needs_attempt' : 'needs_prepare',
    challenge,
  }
}

export function toSignUpResource(ctx: EnvContext, r: SignUpRow) {
  const p = progress(ctx, r)
  const s = ctx.settings()
  const now = ctx.clock.now()
  const emailStrategies = s.first_factors.includes('email_link')
    ? ['email_code', 'email_link']
    : ['email_code']
  return {
    object: 'sign_up_attempt' as const,
    id: r.id,
    status: r.status === 'missing_requirements' && now >= r.abandonAt ? ('abandoned' as const) : r.status,
    required_fields: p.required,
    optional_fields: p.optional,
    missing_fields: r.status === 'complete' ? [] : p.missing,
    unverified_fields: r.status === 'complete' ? [] : p.unverified,
    verifications: {
      email_address: r.emailAddress
        ? verificationOf(ctx, r.emailVerified, r.emailChallengeId, emailStrategies)
        : null,
      phone_number: r.phoneNumber
        ? verificationOf(ctx, r.phoneVerified, r.phoneChallengeId, ['phone_code'])
        : null,
    },
    email_address: r.emailAddress,
    phone_number: r.phoneNumber,
    username: r.username,
    password_enabled: r.passwordDigest !== null,
    first_name: r.firstName,
    last_name: r.lastName,
    unsafe_metadata: r.unsafeMetadata,
    created_user_id: r.createdUserId,
    created_session_id: r.createdSessionId,
    abandon_at: r.abandonAt,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}
export type SignUpResource = ReturnType<typeof toSignUpResource>

export function signUpResourceById(ctx: EnvContext, id: string): SignUpResource | null {
  const row = ctx.db.select().from(signUps).where(eq(signUps.id, id)).get()
  return row ? toSignUpResource(ctx, row) : null
}

const stateInvalid = (long: string) =>
  new AppError(400, [{ code: 'client_state_invalid', message: 'not allowed now', long_message: long }])
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
    if (!s.first_factors.includes('password')) throw disabled('password')
    checkPasswordPolicy(input.password, s.password)
    out.passwordDigest = await ctx.passwords.hash(input.password)
  }
  return out
}

function assertIdentifiersFree(tx: EnvTx, r: Partial<SignUpRow>) {
  if (
    r.emailAddress &&
    tx
      .select({ id: emailAddresses.id })
      .from(emailAddresses)
      .where(eq(emailAddresses.emailAddress, r.emailAddress))
      .get()
  ) {
    throw formIdentifierExists('email_address')
  }
  if (
    r.phoneNumber &&
    tx
      .select({ id: phoneNumbers.id })
      .from(phoneNumbers)
      .where(eq(phoneNumbers.phoneNumber, r.phoneNumber))
      .get()
  ) {
    throw formIdentifierExists('phone_number')
  }
  if (r.username && tx.select({ id: users.id }).from(users).where(eq(users.username, r.username)).get()) {
    throw formIdentifierExists('username')
  }
}

function updateRow(tx: EnvTx, ctx: EnvContext, r: SignUpRow, changes: Partial<SignUpRow>): SignUpRow {
  const updated = {
    ...r,
    ...changes,
    updatedAt: ctx.clock.now(),
    abandonAt: ctx.clock.now() + SIGN_UP_TTL_MS,
  }
  tx.update(signUps)
    .set({ ...changes, updatedAt: updated.updatedAt, abandonAt: updated.abandonAt })
    .where(eq(signUps.id, r.id))
    .run()
  return updated
}

/**
 * Completes the sign-up once nothing is missing or unverified: the user and its first session
 * are created in the same transaction. `actor` is the requesting device (null when a magic link
 * opened elsewhere completes it), whose client token then rotates.
 */
export function completeIfReady(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  r: SignUpRow,
  ticket: Ticket | null,
): SignUpRow {
  if (r.status !== 'missing_requirements') return r
  const p = progress(ctx, r)
  if (p.missing.length || p.unverified.length) return r
  const user = insertUser(tx, ctx, {
    emails: r.emailAddress
      ? [{ address: r.emailAddress, strategy: r.emailVerificationStrategy ?? 'email_code' }]
      : [],
    phones: r.phoneNumber ? [{ number: r.phoneNumber, strategy: 'phone_code' }] : [],
    username: r.username,
    externalId: null,
    firstName: r.firstName,
    lastName: r.lastName,
    passwordDigest: r.passwordDigest,
    publicMetadata: r.publicMetadata,
    privateMetadata: {},
    unsafeMetadata: r.unsafeMetadata,
  })
  if (ticket) consumeTicket(tx, ctx, ticket, user.id)
  const session = createSession(tx, ctx, {
    userId: user.id,
    clientId: r.clientId,
    secondFactor: false,
    ip: actor?.ip ?? null,
    userAgent: actor?.userAgent ?? null,
  })
  const changes = {
    lastActiveSessionId: session.id,
    lastAuthenticationStrategy: r.emailVerificationStrategy ?? 'sign_up',
  }
  if (actor?.client?.id === r.clientId) rotateClient(tx, ctx, actor, changes)
  else
    tx.update(clients)
      .set({ ...changes, updatedAt: ctx.clock.now() })
      .where(eq(clients.id, r.clientId))
      .run()
  return updateRow(tx, ctx, r, {
    status: 'complete',
    createdUserId: user.id,
    createdSessionId: session.id,
    passwordDigest: null,
  })
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

export async function createSignUp(ctx: EnvContext, actor: ClientActor, input: SignUpInput) {
  const ticket = invitationTicket(ctx, input.ticket)
  assertModeAllows(ctx, ticket)
  const fields = await prepareFields(ctx, input)
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
    fields.emailVerificationStrategy = 'ticket'
  }
  const now = ctx.clock.now()
  const row = withTx(ctx, (tx) => {
    const client = ensureClient(tx, ctx, actor)
    assertIdentifiersFree(tx, fields)
    const r: SignUpRow = {
      id: newId('signUp'),
      clientId: client.id,
      status: 'missing_requirements',
      emailAddress: null,
      emailVerified: false,
      emailVerificationStrategy: null,
      emailChallengeId: null,
      phoneNumber: null,
      phoneVerified: false,
      phoneChallengeId: null,
      username: null,
      passwordDigest: null,
      firstName: null,
      lastName: null,
      unsafeMetadata: {},
      publicMetadata: ticket?.kind === 'invitation' ? ticket.row.publicMetadata : {},
      invitationId: ticket?.row.id ?? null,
      createdUserId: null,
      createdSessionId: null,
      abandonAt: now + SIGN_UP_TTL_MS,
      createdAt: now,
      updatedAt: now,
      ...fields,
    }
    tx.insert(signUps).values(r).run()
    updateClient(tx, ctx, actor, { signUpId: r.id })
    return completeIfReady(tx, ctx, actor, r, ticket)
  })
  return toSignUpResource(ctx, row)
}

function loadOwnSignUp(ctx: EnvContext, actor: ClientActor, id: string): SignUpRow {
  const row = actor.client
    ? ctx.db
        .select()
        .from(signUps)
        .where(and(eq(signUps.id, id), eq(signUps.clientId, actor.client.id)))
        .get()
    : undefined
  if (!row) throw notFound('sign-up')
  return row
}

function loadOpenSignUp(ctx: EnvContext, actor: ClientActor, id: string): SignUpRow {
  const row = loadOwnSignUp(ctx, actor, id)
  if (row.status === 'complete') throw stateInvalid('This sign-up is already complete.')
  if (row.status === 'abandoned' || ctx.clock.now() >= row.abandonAt)
    throw stateInvalid('This sign-up has expired. Start a new one.')
  return row
}

export async function updateSignUp(ctx: EnvContext, actor: ClientActor, id: string, input: SignUpInput) {
  const current = loadOpenSignUp(ctx, actor, id)
  if (input.ticket)
    throw formError(
      'form_param_unknown',
      'ticket',
      'cannot change',
      'A ticket is given when the sign-up is created.',
    )
  const fields = await prepareFields(ctx, input)
  if (
    current.emailVerificationStrategy === 'ticket' &&
    fields.emailAddress &&
    fields.emailAddress !== current.emailAddress
  ) {
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
  const ticket = current.invitationId ? invitationTicketById(ctx, current.invitationId) : null
  const row = withTx(ctx, (tx) => {
    assertIdentifiersFree(tx, fields)
    return completeIfReady(tx, ctx, actor, updateRow(tx, ctx, current, fields), ticket)
  })
  return toSignUpResource(ctx, row)
}

export function getSignUp(ctx: EnvContext, actor: ClientActor, id: string) {
  return toSignUpResource(ctx, loadOwnSignUp(ctx, actor, id))
}

export function issueSignUpChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: { strategy: string; redirect_url?: string },
) {
  const r = loadOpenSignUp(ctx, actor, id)
  const base = {
    parentType: 'sign_up' as const,
    parentId: r.id,
    step: 'verification' as const,
    strategy: input.strategy,
    clientId: r.clientId,
  }
  const challenge = withTx(ctx, (tx, after) => {
    if (input.strategy === 'email_code' || input.strategy === 'email_link') {
      if (!r.emailAddress) throw formParamMissing('email_address')
      if (r.emailVerified)
        throw new AppError(400, [
          {
            code: 'verification_already_verified',
            message: 'already verified',
            long_message: 'The email address is already verified.',
          },
        ])
      const settings = ctx.settings()
      if (input.strategy === 'email_link' && !settings.first_factors.includes('email_link')) {
        throw formError(
          'verification_strategy_invalid',
          'strategy',
          'is not enabled',
          'Email links are not enabled on this instance.',
        )
      }
      const target = { id: null, value: r.emailAddress }
      let c: ReturnType<typeof issueCodeChallenge>
      if (input.strategy === 'email_link') {
        if (!input.redirect_url) throw formParamMissing('redirect_url')
        assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
        c = issueLinkChallenge(tx, ctx, after, {
          ...base,
          target,
          redirectUrl: input.redirect_url,
          frontendUrl: actor.frontendUrl,
          template: 'magic_link_sign_up',
        })
      } else {
        c = issueCodeChallenge(tx, ctx, after, {
          ...base,
          target,
          channel: 'email',
          template: 'verification_code',
        })
      }
      updateRow(tx, ctx, r, { emailChallengeId: c.id })
      return c
    }
    if (input.strategy === 'phone_code') {
      if (!r.phoneNumber) throw formParamMissing('phone_number')
      if (r.phoneVerified)
        throw new AppError(400, [
          {
            code: 'verification_already_verified',
            message: 'already verified',
            long_message: 'The phone number is already verified.',
          },
        ])
      const c = issueCodeChallenge(tx, ctx, after, {
        ...base,
        target: { id: null, value: r.phoneNumber },
        channel: 'sms',
        template: 'verification_code',
      })
      updateRow(tx, ctx, r, { phoneChallengeId: c.id })
      return c
    }
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is invalid',
      `${input.strategy} does not verify a sign-up.`,
    )
  })
  return toChallengeResource(challenge, ctx.clock.now())
}

export function getSignUpChallenge(ctx: EnvContext, actor: ClientActor, id: string, cid: string) {
  const r = loadOwnSignUp(ctx, actor, id)
  const c = requireChallenge(ctx, 'sign_up', r.id, cid)
  return toChallengeResource(c, ctx.clock.now())
}

export function answerSignUpChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  cid: string,
  input: { code?: string },
) {
  const own = loadOwnSignUp(ctx, actor, id)
  const c = requireChallenge(ctx, 'sign_up', own.id, cid)
  if (c.strategy === 'email_link') {
    if (input.code !== undefined)
      throw new AppError(400, [
        {
          code: 'verification_strategy_invalid',
          message: 'not a code',
          long_message: 'An email link is answered by opening the link.',
        },
      ])
    if (c.status === 'verified') return toSignUpResource(ctx, own)
    throw new AppError(400, [
      {
        code: 'client_state_invalid',
        message: 'not opened yet',
        long_message: 'The link in the email has not been opened yet.',
      },
    ])
  }
  const r = loadOpenSignUp(ctx, actor, id)
  // Only the current challenge of the identifier as it is now: after a PATCH changed the
  // address, a code sent to the old one proves nothing about the new one.
  const current =
    c.strategy === 'phone_code'
      ? c.id === r.phoneChallengeId && c.target === r.phoneNumber
      : c.id === r.emailChallengeId && c.target === r.emailAddress
  if (!current)
    throw new AppError(400, [
      {
        code: 'verification_stale',
        message: 'stale',
        long_message: 'This challenge is for an identifier the sign-up no longer has. Ask for a new one.',
      },
    ])
  if (input.code === undefined) throw formParamMissing('code')
  const ticket = r.invitationId ? invitationTicketById(ctx, r.invitationId) : null
  const row = answerWithCode(ctx, c, input.code, (tx) =>
    completeIfReady(tx, ctx, actor, verifyField(tx, ctx, r, c.strategy), ticket),
  )
  return toSignUpResource(ctx, row)
}

/** Marks the identifier a verified challenge was about. */
export function verifyField(tx: EnvTx, ctx: EnvContext, r: SignUpRow, strategy: string): SignUpRow {
  if (strategy === 'phone_code') return updateRow(tx, ctx, r, { phoneVerified: true })
  return updateRow(tx, ctx, r, { emailVerified: true, emailVerificationStrategy: strategy })
}

export function ticketForSignUp(ctx: EnvContext, r: SignUpRow): Ticket | null {
  return r.invitationId ? invitationTicketById(ctx, r.invitationId) : null
}

/** Job: unfinished sign-ups past their deadline are abandoned. */
export function abandonSignUps(ctx: EnvContext) {
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.update(signUps)
      .set({ status: 'abandoned', updatedAt: now })
      .where(and(inArray(signUps.status, ['missing_requirements']), lte(signUps.abandonAt, now)))
      .run()
  })
}
