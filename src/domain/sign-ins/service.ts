import { and, eq, inArray, lte } from 'drizzle-orm'
import { randomToken } from '../../crypto/secrets'
import { withTx } from '../../db/tx'
import { AppError, formError, formParamMissing, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type ChallengeRow, challenges } from '../challenges/schema'
import {
  type AnswerOutcome,
  assertAnswerable,
  assertCooldown,
  checkCode,
  findChallenge,
  issueCodeChallenge,
  issueLinkChallenge,
  issueLocalChallenge,
  markVerified,
  recordFailure,
  requireChallenge,
  toChallengeResource,
} from '../challenges/service'
import { clients } from '../clients/schema'
import { type ClientActor, ensureClient, rotateClient, updateClient } from '../clients/service'
import { consumeBackupCode, consumeTotp } from '../mfa/service'
import { assertAllowedRedirect } from '../redirects/service'
import { sessions } from '../sessions/schema'
import { createSession, isLive, revokeUserSessions } from '../sessions/service'
import { consumeTicket, inspectTicket } from '../tickets/service'
import { normalizePhone } from '../users/identifiers'
import { checkPasswordPolicy } from '../users/password-policy'
import { emailAddresses, phoneNumbers, users } from '../users/schema'
import type { UserAggregate } from '../users/serialize'
import { assertMaySignIn, findUser, recordFailedVerification, recordSignIn } from '../users/service'
import { decoyFactorsFor, firstFactorsFor, secondFactorsFor } from './factors'
import { type SignInRow, signIns } from './schema'
import { toSignInResource } from './serialize'

/** An unfinished sign-in is abandoned after this long. */
export const SIGN_IN_TTL_MS = 30 * 60_000

export interface CreateSignInInput {
  identifier?: string
  strategy?: string
  password?: string
  redirect_url?: string
  ticket?: string
  email_address_id?: string
  phone_number_id?: string
}

const stateInvalid = (long: string) =>
  new AppError(400, [{ code: 'client_state_invalid', message: 'not allowed now', long_message: long }])
const strategyInvalid = (strategy: string) =>
  formError(
    'strategy_for_user_invalid',
    'strategy',
    'is not allowed',
    `${strategy} is not a way this user can sign in here.`,
  )

/** Resolves an identifier to a user among the identifiers the env lets people sign in with. */
export function findUserIdByIdentifier(ctx: EnvContext, raw: string): string | null {
  const ids = ctx.settings().identifiers
  const value = raw.trim()
  if (value.includes('@')) {
    if (!ids.email_address.enabled || !ids.email_address.used_for_first_factor) return null
    const row = ctx.db
      .select({ userId: emailAddresses.userId, verified: emailAddresses.verified })
      .from(emailAddresses)
      .where(eq(emailAddresses.emailAddress, value.toLowerCase()))
      .get()
    return row?.verified ? row.userId : null
  }
  if (/^\+?[\d\s\-().]+$/.test(value) && ids.phone_number.enabled && ids.phone_number.used_for_first_factor) {
    let phone: string
    try {
      phone = normalizePhone(value)
    } catch {
      return null
    }
    const row = ctx.db
      .select({ userId: phoneNumbers.userId, verified: phoneNumbers.verified })
      .from(phoneNumbers)
      .where(eq(phoneNumbers.phoneNumber, phone))
      .get()
    return row?.verified ? row.userId : null
  }
  if (!ids.username.enabled || !ids.username.used_for_first_factor) return null
  return (
    ctx.db.select({ id: users.id }).from(users).where(eq(users.username, value.toLowerCase())).get()?.id ??
    null
  )
}

function loadOwnSignIn(ctx: EnvContext, actor: ClientActor, id: string): SignInRow {
  const row = actor.client
    ? ctx.db
        .select()
        .from(signIns)
        .where(and(eq(signIns.id, id), eq(signIns.clientId, actor.client.id)))
        .get()
    : undefined
  if (!row) throw notFound('sign-in')
  return row
}

/** For changes: an abandoned sign-in reads fine but takes no more steps. */
function loadOpenSignIn(ctx: EnvContext, actor: ClientActor, id: string): SignInRow {
  const row = loadOwnSignIn(ctx, actor, id)
  if (row.status === 'abandoned' || (row.status !== 'complete' && ctx.clock.now() >= row.abandonAt)) {
    throw stateInvalid('This sign-in has expired. Start a new one.')
  }
  return row
}

function assertNoLiveSessionConflict(tx: EnvTx, ctx: EnvContext, clientId: string, userId: string | null) {
  const live = tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.clientId, clientId), inArray(sessions.status, ['active', 'pending'])))
    .all()
    .filter((s) => isLive(s, ctx.clock.now()))
  if (!live.length) return
  if (!ctx.settings().session.multi_session) {
    throw new AppError(400, [
      { code: 'session_exists', message: 'already signed in', long_message: 'You are already signed in.' },
    ])
  }
  if (userId && live.some((s) => s.userId === userId)) {
    throw new AppError(400, [
      {
        code: 'identifier_already_signed_in',
        message: 'already signed in',
        long_message: 'This account is already signed in on this device.',
      },
    ])
  }
}

function updateSignIn(tx: EnvTx, ctx: EnvContext, row: SignInRow, changes: Partial<SignInRow>): SignInRow {
  const updated = { ...row, ...changes, updatedAt: ctx.clock.now() }
  tx.update(signIns)
    .set({ ...changes, updatedAt: updated.updatedAt })
    .where(eq(signIns.id, row.id))
    .run()
  return updated
}

/**
 * The first factor passed: either a second factor is due, or the sign-in completes with a new
 * session on the sign-in's client.
 */
function afterFirstFactor(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  row: SignInRow,
  agg: UserAggregate,
  strategy: string,
) {
  if (secondFactorsFor(ctx, agg).length) {
    return updateSignIn(tx, ctx, row, { status: 'needs_second_factor', firstFactorStrategy: strategy })
  }
  return completeSignIn(tx, ctx, actor, row, agg.user.id, strategy, false)
}

/**
 * Creates the session and points the client at it. When the sign-in's own device made the
 * request (`actor`), its client token rotates; a magic link opened on another device completes
 * the originating client without touching its token.
 */
export function completeSignIn(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  row: SignInRow,
  userId: string,
  strategy: string,
  secondFactor: boolean,
): SignInRow {
  const session = createSession(tx, ctx, {
    userId,
    clientId: row.clientId,
    secondFactor,
    ip: actor?.ip ?? null,
    userAgent: actor?.userAgent ?? null,
  })
  recordSignIn(tx, ctx, userId)
  const changes = { lastActiveSessionId: session.id, lastAuthenticationStrategy: strategy }
  if (actor?.client?.id === row.clientId) rotateClient(tx, ctx, actor, changes)
  else
    tx.update(clients)
      .set({ ...changes, updatedAt: ctx.clock.now() })
      .where(eq(clients.id, row.clientId))
      .run()
  return updateSignIn(tx, ctx, row, {
    status: 'complete',
    createdSessionId: session.id,
    firstFactorStrategy: row.firstFactorStrategy ?? strategy,
  })
}

// ---- create -------------------------------------------------------------------------------

export async function createSignIn(ctx: EnvContext, actor: ClientActor, input: CreateSignInInput) {
  if (input.strategy === 'ticket' || input.ticket !== undefined) return signInWithTicket(ctx, actor, input)
  const identifier = input.identifier?.trim() || null
  const agg = identifier ? resolveUser(ctx, identifier) : null
  const protectedEnum = ctx.settings().enumeration_protection
  if (identifier && !agg && !protectedEnum) {
    throw formError('form_identifier_not_found', 'identifier', 'not found', "Couldn't find your account.")
  }
  if (agg) assertMaySignIn(agg.user, ctx.clock.now())
  // One-shot password sign-in: the hash runs before any transaction.
  let passwordOk: boolean | null = null
  if (input.strategy === 'password' || input.password !== undefined) {
    if (!identifier) throw formParamMissing('identifier')
    if (input.password === undefined) throw formParamMissing('password')
    const allowed = agg
      ? firstFactorsFor(ctx, agg).some((f) => f.strategy === 'password')
      : ctx.settings().first_factors.includes('password')
    if (!allowed) throw strategyInvalid('password')
    passwordOk = agg?.user.passwordDigest
      ? await ctx.passwords.verify(input.password, agg.user.passwordDigest)
      : false
  }
  if (input.strategy === 'email_link' && !input.redirect_url) throw formParamMissing('redirect_url')
  if (input.redirect_url) assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)

  const now = ctx.clock.now()
  let failure: AppError | null = null
  const row = withTx(ctx, (tx, after) => {
    const client = ensureClient(tx, ctx, actor)
    assertNoLiveSessionConflict(tx, ctx, client.id, agg?.user.id ?? null)
    let signIn: SignInRow = {
      id: newId('signIn'),
      clientId: client.id,
      status: identifier ? 'needs_first_factor' : 'needs_identifier',
      identifier,
      userId: agg?.user.id ?? null,
      firstFactorChallengeId: null,
      secondFactorChallengeId: null,
      firstFactorStrategy: null,
      createdSessionId: null,
      abandonAt: now + SIGN_IN_TTL_MS,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(signIns).values(signIn).run()
    updateClient(tx, ctx, actor, { signInId: signIn.id })
    if (passwordOk !== null) {
      const challenge = issueLocalChallenge(tx, ctx, {
        parentType: 'sign_in',
        parentId: signIn.id,
        step: 'first_factor',
        strategy: 'password',
        clientId: client.id,
      })
      signIn = updateSignIn(tx, ctx, signIn, { firstFactorChallengeId: challenge.id })
      if (passwordOk && agg) {
        tx.update(challenges)
          .set({ status: 'verified', verifiedAt: now, updatedAt: now })
          .where(eq(challenges.id, challenge.id))
          .run()
        return afterFirstFactor(tx, ctx, actor, signIn, agg, 'password')
      }
      failure = passwordFailure(tx, ctx, signIn)
      return signIn
    }
    if (input.strategy && input.strategy !== 'password' && identifier) {
      const challenge = issueFirstFactor(tx, ctx, after, actor, signIn, agg, {
        ...input,
        strategy: input.strategy,
      })
      signIn = updateSignIn(tx, ctx, signIn, { firstFactorChallengeId: challenge.id })
    }
    return signIn
  })
  if (failure) throw failure
  return toSignInResource(ctx, row)
}

function resolveUser(ctx: EnvContext, identifier: string): UserAggregate | null {
  const userId = findUserIdByIdentifier(ctx, identifier)
  return userId ? findUser(ctx, userId) : null
}

/** A wrong password counts toward the lockout; with enumeration protection the error is vague. */
/**
 * TOTP (each code once) or a backup code (used up). A code of the wrong shape is a format
 * error; a wrong one counts as a failed attempt like any wrong code.
 */
function checkSecondFactorCode(
  tx: EnvTx,
  ctx: EnvContext,
  challenge: ChallengeRow,
  userId: string,
  strategy: string,
  code: string,
): AnswerOutcome {
  assertAnswerable(challenge, ctx.clock.now())
  const trimmed = code.trim()
  const shapeOk = strategy === 'totp' ? /^\d{6}$/.test(trimmed) : /^[0-9a-f]{10}$/i.test(trimmed)
  if (!shapeOk)
    throw formError(
      'form_param_format_invalid',
      'code',
      'is invalid',
      strategy === 'totp'
        ? 'Enter the 6-digit code from your authenticator app.'
        : 'Enter one of your backup codes.',
    )
  const ok =
    strategy === 'totp' ? consumeTotp(tx, ctx, userId, trimmed) : consumeBackupCode(tx, ctx, userId, trimmed)
  if (!ok)
    return recordFailure(
      tx,
      ctx,
      challenge,
      formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.'),
    )
  return { ok: true, row: markVerified(tx, ctx, challenge) }
}

function passwordFailure(tx: EnvTx, ctx: EnvContext, signIn: SignInRow): AppError {
  const locked = signIn.userId ? recordFailedVerification(tx, ctx, signIn.userId) : null
  if (locked) return locked
  return ctx.settings().enumeration_protection
    ? formError(
        'form_password_or_identifier_incorrect',
        'password',
        'is incorrect',
        'The identifier or password is incorrect.',
      )
    : formError(
        'form_password_incorrect',
        'password',
        'is incorrect',
        'Password is incorrect. Try again, or use another method.',
      )
}

async function signInWithTicket(ctx: EnvContext, actor: ClientActor, input: CreateSignInInput) {
  if (!input.ticket) throw formParamMissing('ticket')
  const ticket = inspectTicket(ctx, input.ticket)
  let userId: string | null = null
  if (ticket.kind === 'sign_in_token') userId = ticket.row.userId
  else userId = findUserIdByIdentifier(ctx, ticket.row.emailAddress)
  const agg = userId ? findUser(ctx, userId) : null
  if (!agg) {
    throw new AppError(422, [
      {
        code: 'form_identifier_not_found',
        message: 'not found',
        long_message: 'No account matches this invitation: sign up with it instead.',
        meta: { param_name: 'ticket' },
      },
    ])
  }
  assertMaySignIn(agg.user, ctx.clock.now())
  const now = ctx.clock.now()
  const row = withTx(ctx, (tx) => {
    const client = ensureClient(tx, ctx, actor)
    assertNoLiveSessionConflict(tx, ctx, client.id, agg.user.id)
    consumeTicket(tx, ctx, ticket, agg.user.id)
    const signIn: SignInRow = {
      id: newId('signIn'),
      clientId: client.id,
      status: 'needs_first_factor',
      identifier: null,
      userId: agg.user.id,
      firstFactorChallengeId: null,
      secondFactorChallengeId: null,
      firstFactorStrategy: 'ticket',
      createdSessionId: null,
      abandonAt: now + SIGN_IN_TTL_MS,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(signIns).values(signIn).run()
    updateClient(tx, ctx, actor, { signInId: signIn.id })
    return afterFirstFactor(tx, ctx, actor, signIn, agg, 'ticket')
  })
  return toSignInResource(ctx, row)
}

// ---- challenges ---------------------------------------------------------------------------

export interface IssueInput {
  strategy: string
  email_address_id?: string
  phone_number_id?: string
  redirect_url?: string
}

/** Sends (or records) the first-factor challenge the strategy asks for. */
function issueFirstFactor(
  tx: EnvTx,
  ctx: EnvContext,
  after: (e: () => unknown) => void,
  actor: ClientActor,
  signIn: SignInRow,
  agg: UserAggregate | null,
  input: IssueInput,
) {
  const base = { parentType: 'sign_in' as const, parentId: signIn.id, clientId: signIn.clientId }
  const strategy = input.strategy
  if (!agg) {
    // Enumeration protection: behave as if sending, to an address nobody owns.
    const decoys = signIn.identifier ? decoyFactorsFor(ctx, signIn.identifier) : []
    if (!signIn.identifier || !decoys.some((f) => f.strategy === strategy)) throw strategyInvalid(strategy)
    const step = strategy.startsWith('reset_password_')
      ? ('reset_password' as const)
      : ('first_factor' as const)
    if (strategy === 'password') return issueLocalChallenge(tx, ctx, { ...base, step, strategy })
    return issueDecoy(tx, ctx, { ...base, step, strategy }, signIn.identifier)
  }
  const factors = firstFactorsFor(ctx, agg).filter((f) => f.strategy === strategy)
  if (!factors.length) throw strategyInvalid(strategy)
  const pick =
    factors.find(
      (f) =>
        (input.email_address_id && f.email_address_id === input.email_address_id) ||
        (input.phone_number_id && f.phone_number_id === input.phone_number_id),
    ) ??
    (input.email_address_id || input.phone_number_id
      ? undefined
      : (factors.find((f) => f.primary) ?? factors[0]))
  if (!pick)
    throw formError(
      'form_param_value_invalid',
      input.email_address_id ? 'email_address_id' : 'phone_number_id',
      'is invalid',
      "That identifier is not one of this user's.",
    )
  if (strategy === 'password')
    return issueLocalChallenge(tx, ctx, { ...base, step: 'first_factor', strategy })
  const email = pick.email_address_id ? agg.emails.find((e) => e.id === pick.email_address_id) : undefined
  const phone = pick.phone_number_id ? agg.phones.find((p) => p.id === pick.phone_number_id) : undefined
  const step = strategy.startsWith('reset_password_')
    ? ('reset_password' as const)
    : ('first_factor' as const)
  if (strategy === 'email_link') {
    if (!input.redirect_url) throw formParamMissing('redirect_url')
    assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
    return issueLinkChallenge(tx, ctx, after, {
      ...base,
      step,
      strategy,
      target: { id: email!.id, value: email!.emailAddress },
      redirectUrl: input.redirect_url,
      frontendUrl: actor.frontendUrl,
      template: 'magic_link_sign_in',
    })
  }
  const reset = step === 'reset_password'
  return issueCodeChallenge(tx, ctx, after, {
    ...base,
    step,
    strategy,
    target: email
      ? { id: email.id, value: email.emailAddress }
      : { id: phone!.id, value: phone!.phoneNumber },
    channel: email ? 'email' : 'sms',
    template: reset ? 'reset_password_code' : 'verification_code',
  })
}

/** TOTP and backup codes are answered in place; phone_code sends an SMS to a second-factor number. */
function issueSecondFactor(
  tx: EnvTx,
  ctx: EnvContext,
  after: (e: () => unknown) => void,
  signIn: SignInRow,
  input: IssueInput,
) {
  const agg = signIn.userId ? findUser(ctx, signIn.userId) : null
  if (!agg) throw stateInvalid('This sign-in has no user.')
  const factors = secondFactorsFor(ctx, agg).filter((f) => f.strategy === input.strategy)
  if (!factors.length) throw strategyInvalid(input.strategy)
  const base = {
    parentType: 'sign_in' as const,
    parentId: signIn.id,
    step: 'second_factor' as const,
    strategy: input.strategy,
    clientId: signIn.clientId,
  }
  if (input.strategy !== 'phone_code') return issueLocalChallenge(tx, ctx, base)
  const pick =
    factors.find((f) => f.phone_number_id === input.phone_number_id) ??
    (input.phone_number_id ? undefined : (factors.find((f) => f.primary) ?? factors[0]))
  const phone = pick && agg.phones.find((p) => p.id === pick.phone_number_id)
  if (!phone)
    throw formError(
      'form_param_value_invalid',
      'phone_number_id',
      'is invalid',
      'That number is not a second factor of this user.',
    )
  return issueCodeChallenge(tx, ctx, after, {
    ...base,
    target: { id: phone.id, value: phone.phoneNumber },
    channel: 'sms',
    template: 'verification_code',
  })
}

function issueDecoy(
  tx: EnvTx,
  ctx: EnvContext,
  base: Parameters<typeof issueLocalChallenge>[2],
  identifier: string,
) {
  assertCooldown(tx, ctx, identifier)
  const row = issueLocalChallenge(tx, ctx, base)
  // A code nobody can know: answers fail like wrong codes do.
  const now = ctx.clock.now()
  tx.update(challenges)
    .set({ codeHash: randomToken(32), target: identifier, updatedAt: now })
    .where(eq(challenges.id, row.id))
    .run()
  return { ...row, codeHash: 'decoy', target: identifier }
}

export function issueSignInChallenge(ctx: EnvContext, actor: ClientActor, id: string, input: IssueInput) {
  const signIn = loadOpenSignIn(ctx, actor, id)
  const challenge = withTx(ctx, (tx, after) => {
    if (signIn.status === 'needs_first_factor') {
      const agg = signIn.userId ? findUser(ctx, signIn.userId) : null
      if (agg) assertMaySignIn(agg.user, ctx.clock.now())
      const c = issueFirstFactor(tx, ctx, after, actor, signIn, agg, input)
      updateSignIn(tx, ctx, signIn, { firstFactorChallengeId: c.id })
      return c
    }
    if (signIn.status === 'needs_second_factor') {
      const c = issueSecondFactor(tx, ctx, after, signIn, input)
      updateSignIn(tx, ctx, signIn, { secondFactorChallengeId: c.id })
      return c
    }
    throw stateInvalid(`This sign-in is ${signIn.status}; it takes no challenge now.`)
  })
  return toChallengeResource(challenge, ctx.clock.now())
}

export function getSignInChallenge(ctx: EnvContext, actor: ClientActor, id: string, cid: string) {
  const signIn = loadOwnSignIn(ctx, actor, id)
  const c = requireChallenge(ctx, 'sign_in', signIn.id, cid)
  return toChallengeResource(c, ctx.clock.now())
}

export interface AnswerInput {
  code?: string
  password?: string
}

/**
 * Answers a challenge of the sign-in. `cid` may be `password` to answer a password challenge
 * that was never issued. A wrong answer is committed (attempts, lockout) before it is reported.
 */
export async function answerSignInChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  cid: string,
  input: AnswerInput,
) {
  const own = loadOwnSignIn(ctx, actor, id)
  let challenge = cid === 'password' ? null : findChallenge(ctx, 'sign_in', own.id, cid)
  if (cid !== 'password' && !challenge) throw notFound('challenge')
  const strategy = challenge?.strategy ?? 'password'
  // The seed: an email link is answered out of band; an empty answer reports where it stands.
  if (strategy === 'email_link' && input.code === undefined && input.password === undefined) {
    if (challenge?.status === 'verified') return toSignInResource(ctx, own)
    throw new AppError(400, [
      {
        code: 'client_state_invalid',
        message: 'not opened yet',
        long_message: 'The link in the email has not been opened yet.',
      },
    ])
  }
  const signIn = loadOpenSignIn(ctx, actor, id)
  if (signIn.status === 'complete') throw stateInvalid('This sign-in is already complete.')
  const agg = signIn.userId ? findUser(ctx, signIn.userId) : null
  if (agg) assertMaySignIn(agg.user, ctx.clock.now())

  if (challenge && challenge.step === 'second_factor' && signIn.status !== 'needs_second_factor') {
    throw stateInvalid(`This sign-in is ${signIn.status}.`)
  }
  if (challenge && challenge.step !== 'second_factor' && signIn.status === 'needs_second_factor') {
    throw stateInvalid('The first factor is done: answer a second-factor challenge.')
  }
  let passwordOk: boolean | null = null
  if (strategy === 'password') {
    if (signIn.status !== 'needs_first_factor') throw stateInvalid(`This sign-in is ${signIn.status}.`)
    if (challenge) assertAnswerable(challenge, ctx.clock.now())
    if (input.password === undefined) throw formParamMissing('password')
    if (agg && !firstFactorsFor(ctx, agg).some((f) => f.strategy === 'password'))
      throw strategyInvalid('password')
    passwordOk = agg?.user.passwordDigest
      ? await ctx.passwords.verify(input.password, agg.user.passwordDigest)
      : false
  } else if (input.code === undefined) {
    if (strategy === 'email_link')
      throw new AppError(400, [
        {
          code: 'verification_strategy_invalid',
          message: 'not a code',
          long_message: 'An email link is answered by opening the link.',
        },
      ])
    throw formParamMissing('code')
  }

  let failure: AppError | null = null
  const row = withTx(ctx, (tx) => {
    let current = signIn
    if (!challenge) {
      challenge = issueLocalChallenge(tx, ctx, {
        parentType: 'sign_in',
        parentId: signIn.id,
        step: 'first_factor',
        strategy: 'password',
        clientId: signIn.clientId,
      })
      current = updateSignIn(tx, ctx, current, { firstFactorChallengeId: challenge.id })
    }
    let outcome: AnswerOutcome
    if (passwordOk !== null) {
      outcome = passwordOk
        ? { ok: true, row: challenge }
        : recordFailure(tx, ctx, challenge, passwordFailure(tx, ctx, current))
      if (passwordOk) {
        const now = ctx.clock.now()
        tx.update(challenges)
          .set({ status: 'verified', verifiedAt: now, updatedAt: now })
          .where(eq(challenges.id, challenge.id))
          .run()
      }
    } else if (challenge.step === 'second_factor' && (strategy === 'totp' || strategy === 'backup_code')) {
      outcome = checkSecondFactorCode(tx, ctx, challenge, current.userId!, strategy, input.code ?? '')
      if (!outcome.ok && current.userId && outcome.error.items[0]?.code === 'form_code_incorrect') {
        const locked = recordFailedVerification(tx, ctx, current.userId)
        if (locked) outcome = { ...outcome, error: locked }
      }
    } else {
      outcome = checkCode(tx, ctx, challenge, input.code ?? '')
      if (!outcome.ok && current.userId && outcome.error.items[0]?.code === 'form_code_incorrect') {
        const locked = recordFailedVerification(tx, ctx, current.userId)
        if (locked) outcome = { ...outcome, error: locked }
      }
    }
    if (!outcome.ok) {
      failure = outcome.error
      return current
    }
    if (!agg) {
      failure = formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.')
      return current
    }
    if (challenge.step === 'reset_password')
      return updateSignIn(tx, ctx, current, { status: 'needs_new_password' })
    if (challenge.step === 'first_factor') return afterFirstFactor(tx, ctx, actor, current, agg, strategy)
    if (challenge.step === 'second_factor' && current.status === 'needs_second_factor') {
      return completeSignIn(
        tx,
        ctx,
        actor,
        current,
        agg.user.id,
        current.firstFactorStrategy ?? strategy,
        true,
      )
    }
    return current
  })
  if (failure) throw failure
  return toSignInResource(ctx, row)
}

/** From `needs_new_password` (a reset code was answered): set the password and finish. */
export async function resetSignInPassword(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: { password: string; sign_out_of_other_sessions?: boolean },
) {
  const signIn = loadOpenSignIn(ctx, actor, id)
  if (signIn.status !== 'needs_new_password' || !signIn.userId)
    throw stateInvalid('Answer a reset-password code first.')
  const agg = findUser(ctx, signIn.userId)
  if (!agg) throw notFound('user')
  checkPasswordPolicy(input.password, ctx.settings().password)
  if (agg.user.passwordDigest && (await ctx.passwords.verify(input.password, agg.user.passwordDigest))) {
    throw formError(
      'form_new_password_matches_current',
      'password',
      'is the current password',
      'Choose a password different from the current one.',
    )
  }
  const digest = await ctx.passwords.hash(input.password)
  const row = withTx(ctx, (tx) => {
    const now = ctx.clock.now()
    tx.update(users)
      .set({ passwordDigest: digest, passwordUpdatedAt: now, updatedAt: now })
      .where(eq(users.id, agg.user.id))
      .run()
    if (input.sign_out_of_other_sessions) revokeUserSessions(tx, ctx, agg.user.id)
    return afterFirstFactor(tx, ctx, actor, signIn, agg, 'reset_password')
  })
  return toSignInResource(ctx, row)
}

export function getSignIn(ctx: EnvContext, actor: ClientActor, id: string) {
  return toSignInResource(ctx, loadOwnSignIn(ctx, actor, id))
}

/** Job: unfinished sign-ins past their deadline are abandoned. */
export function abandonSignIns(ctx: EnvContext) {
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.update(signIns)
      .set({ status: 'abandoned', updatedAt: now })
      .where(
        and(
          inArray(signIns.status, [
            'needs_identifier',
            'needs_first_factor',
            'needs_second_factor',
            'needs_new_password',
          ]),
          lte(signIns.abandonAt, now),
        ),
      )
      .run()
  })
}
