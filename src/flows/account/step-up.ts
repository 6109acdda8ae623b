import { withTx } from '../../db/tx'
import type { ChallengeRow } from '../../domain/challenges/schema'
import {
  assertAnswerable,
  challengeResourceById,
  findChallenge,
  markVerified,
  recordFailure,
  toChallengeResource,
} from '../../domain/challenges/service'
import type { ClientActor } from '../../domain/clients/service'
import {
  insertReverification,
  latestReverification,
  updateReverification,
} from '../../domain/sessions/reverifications'
import type { ReverificationRow } from '../../domain/sessions/schema'
import { markFactorVerified } from '../../domain/sessions/service'
import { recordFailedVerification } from '../../domain/users/lockout'
import type { UserAggregate } from '../../domain/users/serialize'
import { type AppError, formError, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { clientStateInvalid } from '../errors'
import { type AnswerInput, type Factor, factorsOf, type PrepareInput } from '../factors'
import { pickOption } from '../factors/shared'
import { requireSignedIn } from './signed-in'

/**
 * Step-up (`POST /v1/client/sessions/{sid}/verify`): the user proves a factor again; the
 * session's factor ages (the token's `fva`) are reset as each step passes. `second_factor`
 * falls back to a first factor for users without one. Factors opt in (no links, no resets).
 */

type Level = ReverificationRow['level']
type Step = 'first' | 'second'

const stepUpFactors = (ctx: EnvContext, step: Step) =>
  factorsOf(ctx).filter((f) => f.stepUp && f.kind === step)
const optionsOf = (ctx: EnvContext, user: UserAggregate, step: Step) =>
  stepUpFactors(ctx, step).flatMap((f) => f.options(ctx, user))

/** The first factors this user may re-verify with (before a verification is started). */
export const reverificationFirstFactors = (ctx: EnvContext, user: UserAggregate) =>
  optionsOf(ctx, user, 'first')

function toResource(ctx: EnvContext, user: UserAggregate | null, r: ReverificationRow) {
  return {
    object: 'session_reverification' as const,
    id: r.id,
    level: r.level,
    status: r.status,
    supported_first_factors: user && r.status === 'needs_first_factor' ? optionsOf(ctx, user, 'first') : [],
    supported_second_factors:
      user && r.status === 'needs_second_factor' ? optionsOf(ctx, user, 'second') : [],
    first_factor_verification: challengeResourceById(ctx, r.firstFactorChallengeId),
    second_factor_verification: challengeResourceById(ctx, r.secondFactorChallengeId),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}

export function startReverification(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  level: Level = 'second_factor',
) {
  const { session, user } = requireSignedIn(ctx, actor, sid)
  const hasSecond = optionsOf(ctx, user, 'second').length > 0
  const row = insertReverification(ctx, {
    sessionId: session.id,
    level: level !== 'first_factor' && !hasSecond ? 'first_factor' : level,
    status: level === 'second_factor' && hasSecond ? 'needs_second_factor' : 'needs_first_factor',
  })
  return toResource(ctx, user, row)
}

function currentOf(ctx: EnvContext, sessionId: string): ReverificationRow {
  const r = latestReverification(ctx, sessionId)
  if (!r) throw clientStateInvalid('Start a verification first (POST …/verify).')
  if (r.status === 'complete') throw clientStateInvalid('This verification is complete.')
  return r
}

const stepOf = (r: ReverificationRow): Step => (r.status === 'needs_first_factor' ? 'first' : 'second')

export function issueReverificationChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  input: PrepareInput & { strategy: string },
) {
  const { session, user } = requireSignedIn(ctx, actor, sid)
  const r = currentOf(ctx, session.id)
  const step = stepOf(r)
  const factor = stepUpFactors(ctx, step).find((f) => f.strategy === input.strategy)
  const options = factor?.options(ctx, user) ?? []
  if (!factor || !options.length)
    throw formError(
      'strategy_for_user_invalid',
      'strategy',
      'is not allowed',
      `${input.strategy} cannot verify this step.`,
    )
  const option = pickOption(options, input)
  const c = withTx(ctx, (tx, after) => {
    const { challenge } = factor.prepare({
      tx,
      ctx,
      after,
      actor,
      parent: { type: 'session', id: session.id, clientId: session.clientId },
      option,
      input,
      user,
      identifier: null,
    })
    updateReverification(
      tx,
      ctx,
      r,
      step === 'first' ? { firstFactorChallengeId: challenge.id } : { secondFactorChallengeId: challenge.id },
    )
    return challenge
  })
  return toChallengeResource(c, ctx.clock.now())
}

const factorOfChallenge = (ctx: EnvContext, c: ChallengeRow): Factor | undefined =>
  factorsOf(ctx).find(
    (f) => f.stepUp && f.strategy === c.strategy && (c.step === 'second_factor') === (f.kind === 'second'),
  )

export async function answerReverificationChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  cid: string,
  input: AnswerInput,
) {
  const { session, user } = requireSignedIn(ctx, actor, sid)
  const r = currentOf(ctx, session.id)
  const c = findChallenge(ctx, 'session', session.id, cid)
  if (!c || (c.id !== r.firstFactorChallengeId && c.id !== r.secondFactorChallengeId))
    throw notFound('challenge')
  const factor = factorOfChallenge(ctx, c)
  if (!factor) throw notFound('challenge')
  assertAnswerable(c, ctx.clock.now())
  const attempt = { ctx, user, input, purpose: 'step_up' as const }
  const prechecked = (await factor.precheck?.(attempt)) ?? null
  let failure: AppError | null = null
  const row = withTx(ctx, (tx) => {
    if (!factor.check(tx, { ...attempt, challenge: c, prechecked })) {
      const outcome = recordFailure(tx, ctx, c, factor.wrongAnswer(attempt))
      failure =
        recordFailedVerification(tx, ctx, user.user.id) ??
        (outcome.ok ? factor.wrongAnswer(attempt) : outcome.error)
      return r
    }
    markVerified(tx, ctx, c)
    const passed: Step = c.step === 'first_factor' ? 'first' : 'second'
    markFactorVerified(tx, ctx, r.sessionId, passed)
    const status = passed === 'first' && r.level === 'multi_factor' ? 'needs_second_factor' : 'complete'
    return updateReverification(tx, ctx, r, { status })
  })
  if (failure) throw failure
  return toResource(ctx, user, row)
}
