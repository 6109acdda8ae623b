import { withTx } from '../../db/tx'
import { verificationExpired } from '../../domain/challenges/errors'
import type { ChallengeRow } from '../../domain/challenges/schema'
import {
  assertAnswerable,
  expireChallenge,
  findChallenge,
  findChallengeById,
  markVerified,
  recordFailure,
  requireChallenge,
  toChallengeResource,
} from '../../domain/challenges/service'
import { type ClientActor, ensureClient, updateClient } from '../../domain/clients/service'
import { assertAllowedRedirect } from '../../domain/redirects/service'
import { revokeUserSessions } from '../../domain/sessions/service'
import type { SignInRow } from '../../domain/sign-ins/schema'
import { findSignIn, insertSignIn, requireClientSignIn, updateSignIn } from '../../domain/sign-ins/store'
import { findUserIdByIdentifier } from '../../domain/users/identifiers'
import { assertMaySignIn, recordFailedVerification } from '../../domain/users/lockout'
import { checkPasswordPolicy } from '../../domain/users/password-policy'
import type { UserAggregate } from '../../domain/users/serialize'
import { emitUserUpdated, findUser, setPasswordDigest } from '../../domain/users/service'
import { type AppError, formError, formParamMissing, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { clientStateInvalid, onlyStrategyAllowed, strategyInvalid } from '../errors'
import {
  type AnswerInput,
  type Factor,
  type FactorKind,
  factorFor,
  factorsOf,
  findsUserFor,
  identifyingFactor,
  implicitFactor,
  type PrepareInput,
  secondFactorOptions,
  shadowedBy,
} from '../factors'
import { pickOption } from '../factors/shared'
import { establishSession } from '../session-door'
import { transferableUserOf } from '../sign-up/machine'
import { assertNoSessionConflict } from './conflicts'
import { toSignInResource } from './view'

/**
 * The sign-in state machine: needs_identifier → needs_first_factor → (needs_second_factor) →
 * complete, with needs_new_password after a reset code. Every step is one transaction; what a
 * strategy does is its factor module's business (src/flows/factors).
 */

export interface CreateSignInInput extends PrepareInput {
  identifier?: string
  strategy?: string
  password?: string
  ticket?: string
  /** Take over the existing user a sign-up's provider verification found (Clerk's transfer). */
  transfer?: boolean
}

const firstKinds: FactorKind[] = ['first', 'reset']
const KINDS_OF_STEP: Record<string, FactorKind[]> = {
  first_factor: ['first'],
  reset_password: ['reset'],
  second_factor: ['second'],
}

/** A changing request: an abandoned sign-in reads fine but takes no more steps. */
function requireOpenSignIn(ctx: EnvContext, actor: ClientActor, id: string): SignInRow {
  const row = requireClientSignIn(ctx, actor.client?.id, id)
  if (row.status === 'abandoned' || (row.status !== 'complete' && ctx.clock.now() >= row.abandonAt)) {
    throw clientStateInvalid('This sign-in has expired. Start a new one.')
  }
  return row
}

function resolveUser(ctx: EnvContext, identifier: string): UserAggregate | null {
  const userId = findUserIdByIdentifier(ctx, identifier)
  return userId ? findUser(ctx, userId) : null
}

/**
 * The user's options of one factor; for an unknown identifier the decoy's; with no identifier,
 * what anyone may use (factors that find the user themselves).
 */
function optionsOf(ctx: EnvContext, factor: Factor, user: UserAggregate | null, identifier: string | null) {
  if (shadowedBy(ctx, factor, user, identifier)) return []
  if (user) return factor.options(ctx, user)
  if (identifier) return factor.decoyOptions?.(ctx, identifier) ?? factor.anonymousOptions?.(ctx) ?? []
  return factor.anonymousOptions?.(ctx) ?? []
}

/** Refuses a factor that another one (enforced enterprise SSO) replaces for this identifier. */
function assertNotShadowed(
  ctx: EnvContext,
  factor: Factor,
  user: UserAggregate | null,
  identifier: string | null,
) {
  const only = shadowedBy(ctx, factor, user, identifier)
  if (only) throw onlyStrategyAllowed(only.strategy)
}

/** Issues the factor's challenge for the sign-in and records it as the step's current one. */
function prepareFactor(
  tx: EnvTx,
  ctx: EnvContext,
  after: Parameters<Parameters<typeof withTx>[1]>[1],
  actor: ClientActor | null,
  signIn: SignInRow,
  user: UserAggregate | null,
  factor: Factor,
  input: PrepareInput,
): { signIn: SignInRow; challenge: ChallengeRow } {
  assertNotShadowed(ctx, factor, user, signIn.identifier)
  const options = optionsOf(ctx, factor, user, signIn.identifier)
  if (!options.length) throw strategyInvalid(factor.strategy)
  const option = pickOption(options, input)
  const { challenge } = factor.prepare({
    tx,
    ctx,
    after,
    actor,
    parent: { type: 'sign_in', id: signIn.id, clientId: signIn.clientId },
    option,
    input,
    user,
    identifier: signIn.identifier,
  })
  const field = factor.kind === 'second' ? 'secondFactorChallengeId' : 'firstFactorChallengeId'
  return { signIn: updateSignIn(tx, ctx, signIn, { [field]: challenge.id }), challenge }
}

/**
 * The first factor passed: either a second factor is due, or the sign-in completes through the
 * session door on the sign-in's client.
 */
export function afterFirstFactor(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  signIn: SignInRow,
  user: UserAggregate,
  strategy: string,
): SignInRow {
  if (secondFactorOptions(ctx, user).length) {
    return updateSignIn(tx, ctx, signIn, { status: 'needs_second_factor', firstFactorStrategy: strategy })
  }
  return completeSignIn(tx, ctx, actor, signIn, user, strategy, false)
}

function completeSignIn(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor | null,
  signIn: SignInRow,
  user: UserAggregate,
  strategy: string,
  secondFactor: boolean,
): SignInRow {
  const session = establishSession(tx, ctx, signIn.clientId, user, {
    factorsVerified: { first: true, second: secondFactor },
    strategy,
    actor,
  })
  return updateSignIn(tx, ctx, signIn, {
    status: 'complete',
    createdSessionId: session.id,
    firstFactorStrategy: signIn.firstFactorStrategy ?? strategy,
  })
}

/**
 * A wrong answer is committed before it is reported: the challenge counts it (and fails at the
 * cap), and the account's lockout counts it; a lock that this answer causes is what's reported.
 */
function recordWrongAnswer(
  tx: EnvTx,
  ctx: EnvContext,
  challenge: ChallengeRow,
  userId: string | null,
  error: AppError,
): AppError {
  const outcome = recordFailure(tx, ctx, challenge, error)
  const locked = userId ? recordFailedVerification(tx, ctx, userId) : null
  return locked ?? (outcome.ok ? error : outcome.error)
}

// ---- create -------------------------------------------------------------------------------

export async function createSignIn(ctx: EnvContext, actor: ClientActor, input: CreateSignInInput) {
  if (input.transfer) return signInTransferred(ctx, actor)
  const identified = identifyingFactor(ctx, input)
  if (identified) return signInIdentified(ctx, actor, identified)
  const identifier = input.identifier?.trim() || null
  const user = identifier ? resolveUser(ctx, identifier) : null
  // A redirect factor that finds (or provisions) the user itself may take an identifier nobody
  // has: named, or (identifier only) any that routes it, e.g. an email domain's enterprise IdP.
  const external = input.strategy ? factorFor(ctx, input.strategy, firstKinds) : undefined
  const findsUser =
    !!identifier &&
    (input.strategy
      ? external?.answer === 'redirect' && !!external.decoyOptions?.(ctx, identifier).length
      : !!findsUserFor(ctx, identifier))
  // A factor another one replaces here (enforced SSO) is refused before the user is looked for.
  const tried =
    external ?? (input.password !== undefined ? factorsOf(ctx).find((f) => f.answer === 'secret') : undefined)
  if (identifier && tried) assertNotShadowed(ctx, tried, user, identifier)
  if (identifier && !user && !ctx.settings().enumeration_protection && !findsUser) {
    throw formError('form_identifier_not_found', 'identifier', 'not found', "Couldn't find your account.")
  }
  if (user) assertMaySignIn(user.user, ctx.clock.now())
  // A factor answered in the create request itself (identifier + password): its slow check
  // (the hash) runs before any transaction.
  const oneShot = factorsOf(ctx).find(
    (f) => f.answer === 'secret' && (input.strategy === f.strategy || input.password !== undefined),
  )
  let prechecked: boolean | null = null
  if (oneShot) {
    if (!identifier) throw formParamMissing('identifier')
    if (input.password === undefined) throw formParamMissing('password')
    if (!optionsOf(ctx, oneShot, user, identifier).length) throw strategyInvalid(oneShot.strategy)
    prechecked =
      (await oneShot.precheck?.({ ctx, user, input: { password: input.password }, purpose: 'sign_in' })) ??
      null
  }
  const named = !oneShot && input.strategy ? factorFor(ctx, input.strategy, firstKinds) : undefined
  named?.validatePrepare?.(ctx, actor, input)
  if (input.redirect_url) assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)

  let failure: AppError | null = null
  const row = withTx(ctx, (tx, after) => {
    const client = ensureClient(tx, ctx, actor)
    assertNoSessionConflict(tx, ctx, client.id, user?.user.id ?? null)
    let signIn = insertSignIn(tx, ctx, {
      clientId: client.id,
      status: identifier ? 'needs_first_factor' : 'needs_identifier',
      identifier,
      userId: user?.user.id ?? null,
    })
    updateClient(tx, ctx, actor, { signInId: signIn.id })
    if (oneShot) {
      const prepared = prepareFactor(tx, ctx, after, actor, signIn, user, oneShot, input)
      signIn = prepared.signIn
      const attempt = { ctx, user, input: { password: input.password }, purpose: 'sign_in' as const }
      if (user && oneShot.check(tx, { ...attempt, challenge: prepared.challenge, prechecked })) {
        markVerified(tx, ctx, prepared.challenge)
        return afterFirstFactor(tx, ctx, actor, signIn, user, oneShot.strategy)
      }
      failure = recordWrongAnswer(tx, ctx, prepared.challenge, signIn.userId, oneShot.wrongAnswer(attempt))
      return signIn
    }
    // Factors that find the user themselves (an external provider) need no identifier.
    if (input.strategy && (identifier || named?.anonymousOptions)) {
      if (!named) throw strategyInvalid(input.strategy)
      signIn = prepareFactor(tx, ctx, after, actor, signIn, user, named, input).signIn
    }
    return signIn
  })
  if (failure) throw failure
  return toSignInResource(ctx, row)
}

/**
 * A sign-up's provider verification found an existing user (`transferable`): the sign-in takes
 * it over and completes the first factor with the provider's strategy.
 */
function signInTransferred(ctx: EnvContext, actor: ClientActor) {
  const row = withTx(ctx, (tx) => {
    const found = transferableUserOf(tx, ctx, actor)
    const user = findUser(ctx, found.userId)
    if (!user) throw notFound('user')
    assertMaySignIn(user.user, ctx.clock.now())
    const client = ensureClient(tx, ctx, actor)
    assertNoSessionConflict(tx, ctx, client.id, user.user.id)
    found.consume()
    const signIn = insertSignIn(tx, ctx, {
      clientId: client.id,
      status: 'needs_first_factor',
      identifier: null,
      userId: user.user.id,
      firstFactorChallengeId: found.challengeId,
    })
    updateClient(tx, ctx, actor, { signInId: signIn.id })
    return afterFirstFactor(tx, ctx, actor, signIn, user, found.strategy)
  })
  return toSignInResource(ctx, row)
}

/** A factor that names the user by itself (a ticket) completes the first factor at creation. */
async function signInIdentified(
  ctx: EnvContext,
  actor: ClientActor,
  identified: NonNullable<ReturnType<typeof identifyingFactor>>,
) {
  const user = findUser(ctx, identified.userId)
  if (!user) throw notFound('user')
  assertMaySignIn(user.user, ctx.clock.now())
  const row = withTx(ctx, (tx) => {
    const client = ensureClient(tx, ctx, actor)
    assertNoSessionConflict(tx, ctx, client.id, user.user.id)
    identified.commit(tx, ctx)
    const signIn = insertSignIn(tx, ctx, {
      clientId: client.id,
      status: 'needs_first_factor',
      identifier: null,
      userId: user.user.id,
      firstFactorStrategy: identified.strategy,
    })
    updateClient(tx, ctx, actor, { signInId: signIn.id })
    return afterFirstFactor(tx, ctx, actor, signIn, user, identified.strategy)
  })
  return toSignInResource(ctx, row)
}

// ---- challenges ---------------------------------------------------------------------------

export interface IssueInput extends PrepareInput {
  strategy: string
}

export function issueSignInChallenge(ctx: EnvContext, actor: ClientActor, id: string, input: IssueInput) {
  const signIn = requireOpenSignIn(ctx, actor, id)
  if (input.redirect_url) assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
  const challenge = withTx(ctx, (tx, after) => {
    // A factor that finds the user itself (an external provider) needs no identifier first.
    const anonymous = factorFor(ctx, input.strategy, firstKinds)?.anonymousOptions !== undefined
    if (signIn.status === 'needs_first_factor' || (signIn.status === 'needs_identifier' && anonymous)) {
      const user = signIn.userId ? findUser(ctx, signIn.userId) : null
      if (user) assertMaySignIn(user.user, ctx.clock.now())
      const factor = factorFor(ctx, input.strategy, firstKinds)
      if (!factor) throw strategyInvalid(input.strategy)
      factor.validatePrepare?.(ctx, actor, input)
      return prepareFactor(tx, ctx, after, actor, signIn, user, factor, input).challenge
    }
    if (signIn.status === 'needs_second_factor') {
      const user = signIn.userId ? findUser(ctx, signIn.userId) : null
      if (!user) throw clientStateInvalid('This sign-in has no user.')
      const factor = factorFor(ctx, input.strategy, ['second'])
      if (!factor) throw strategyInvalid(input.strategy)
      return prepareFactor(tx, ctx, after, actor, signIn, user, factor, input).challenge
    }
    throw clientStateInvalid(`This sign-in is ${signIn.status}; it takes no challenge now.`)
  })
  return toChallengeResource(challenge, ctx.clock.now())
}

export function getSignInChallenge(ctx: EnvContext, actor: ClientActor, id: string, cid: string) {
  const signIn = requireClientSignIn(ctx, actor.client?.id, id)
  return toChallengeResource(requireChallenge(ctx, 'sign_in', signIn.id, cid), ctx.clock.now())
}

/**
 * Answers a challenge of the sign-in. `cid` may name an implicit factor (`password`) to answer
 * a challenge that was never issued. A wrong answer is committed (attempts, lockout) before it
 * is reported.
 */
export async function answerSignInChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  cid: string,
  input: AnswerInput,
) {
  const own = requireClientSignIn(ctx, actor.client?.id, id)
  const implicit = implicitFactor(ctx, cid)
  const issued = implicit ? null : findChallenge(ctx, 'sign_in', own.id, cid)
  if (!implicit && !issued) throw notFound('challenge')
  const factor = implicit ?? factorFor(ctx, issued!.strategy, KINDS_OF_STEP[issued!.step] ?? [])
  if (!factor) throw notFound('challenge')
  // The seed: a link (or an external provider) is answered out of band; an empty answer reports
  // where it stands.
  if (
    (factor.answer === 'link' || factor.answer === 'redirect') &&
    input.code === undefined &&
    input.password === undefined
  ) {
    if (issued?.status === 'verified' || issued?.status === 'transferable') return toSignInResource(ctx, own)
    throw clientStateInvalid(
      factor.answer === 'link'
        ? 'The link in the email has not been opened yet.'
        : 'The verification has not come back yet.',
      'not opened yet',
    )
  }
  const signIn = requireOpenSignIn(ctx, actor, id)
  if (signIn.status === 'complete') throw clientStateInvalid('This sign-in is already complete.')
  const user = signIn.userId ? findUser(ctx, signIn.userId) : null
  if (user) assertMaySignIn(user.user, ctx.clock.now())
  if (factor.kind === 'second' && signIn.status !== 'needs_second_factor')
    throw clientStateInvalid(`This sign-in is ${signIn.status}.`)
  if (factor.kind !== 'second' && signIn.status === 'needs_second_factor')
    throw clientStateInvalid('The first factor is done: answer a second-factor challenge.')
  assertNotShadowed(ctx, factor, user, signIn.identifier)
  if (factor.answer === 'secret') {
    if (signIn.status !== 'needs_first_factor') throw clientStateInvalid(`This sign-in is ${signIn.status}.`)
    if (user && !factor.options(ctx, user).length) throw strategyInvalid(factor.strategy)
  }
  const now = ctx.clock.now()
  if (issued && (issued.status !== 'unverified' || factor.answer === 'secret')) {
    if (!(issued.status === 'unverified' && now >= issued.expireAt)) assertAnswerable(issued, now)
  }
  const attempt = { ctx, user, input, purpose: 'sign_in' as const }
  const prechecked = (await factor.precheck?.(attempt)) ?? null

  let failure: AppError | null = null
  const row = withTx(ctx, (tx, after) => {
    let current = signIn
    let challenge = issued
    if (!challenge) {
      const prepared = prepareFactor(tx, ctx, after, actor, current, user, factor, {})
      current = prepared.signIn
      challenge = prepared.challenge
    }
    if (challenge.status === 'unverified' && now >= challenge.expireAt) {
      expireChallenge(tx, ctx, challenge)
      failure = verificationExpired()
      return current
    }
    if (!factor.check(tx, { ...attempt, challenge, prechecked })) {
      failure = recordWrongAnswer(tx, ctx, challenge, current.userId, factor.wrongAnswer(attempt))
      return current
    }
    markVerified(tx, ctx, challenge)
    if (!user) {
      failure = factor.wrongAnswer(attempt)
      return current
    }
    if (factor.kind === 'reset') return updateSignIn(tx, ctx, current, { status: 'needs_new_password' })
    if (factor.kind === 'first') return afterFirstFactor(tx, ctx, actor, current, user, factor.strategy)
    return completeSignIn(tx, ctx, actor, current, user, current.firstFactorStrategy ?? factor.strategy, true)
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
  const signIn = requireOpenSignIn(ctx, actor, id)
  if (signIn.status !== 'needs_new_password' || !signIn.userId)
    throw clientStateInvalid('Answer a reset-password code first.')
  const user = findUser(ctx, signIn.userId)
  if (!user) throw notFound('user')
  checkPasswordPolicy(input.password, ctx.settings().password)
  if (user.user.passwordDigest && (await ctx.passwords.verify(input.password, user.user.passwordDigest))) {
    throw formError(
      'form_new_password_matches_current',
      'password',
      'is the current password',
      'Choose a password different from the current one.',
    )
  }
  const digest = await ctx.passwords.hash(input.password)
  const row = withTx(ctx, (tx) => {
    setPasswordDigest(tx, ctx, user.user.id, digest)
    emitUserUpdated(tx, ctx, user.user.id)
    if (input.sign_out_of_other_sessions) revokeUserSessions(tx, ctx, user.user.id)
    // The reset code's strategy is how this person got in.
    const reset = signIn.firstFactorChallengeId ? findChallengeById(tx, signIn.firstFactorChallengeId) : null
    return afterFirstFactor(tx, ctx, actor, signIn, user, reset?.strategy ?? 'reset_password')
  })
  return toSignInResource(ctx, row)
}

export const getSignIn = (ctx: EnvContext, actor: ClientActor, id: string) =>
  toSignInResource(ctx, requireClientSignIn(ctx, actor.client?.id, id))

/**
 * A magic link of this sign-in was opened (src/flows/links.ts): the sign-in completes on its
 * own client; `here` is the opening device when that is the same client.
 */
export function completeSignInByLink(
  tx: EnvTx,
  ctx: EnvContext,
  here: ClientActor | null,
  challenge: ChallengeRow,
): string | null {
  const signIn = findSignIn(tx, challenge.parentId)
  if (
    signIn?.status !== 'needs_first_factor' ||
    signIn.firstFactorChallengeId !== challenge.id ||
    !signIn.userId
  )
    return null
  const user = findUser(ctx, signIn.userId)
  if (!user || user.user.banned) return null
  return afterFirstFactor(tx, ctx, here, signIn, user, challenge.strategy).createdSessionId
}
