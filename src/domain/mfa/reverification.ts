import { and, desc, eq } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { AppError, formError, formParamMissing, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type ChallengeRow, challenges } from '../challenges/schema'
import {
  type AnswerOutcome,
  assertAnswerable,
  checkCode,
  findChallenge,
  issueCodeChallenge,
  issueLocalChallenge,
  markVerified,
  recordFailure,
  toChallengeResource,
} from '../challenges/service'
import type { ClientActor } from '../clients/service'
import { requireSession } from '../me/service'
import { sessions } from '../sessions/schema'
import { firstFactorsFor, secondFactorsFor } from '../sign-ins/factors'
import { findUser, recordFailedVerification } from '../users/service'
import { type ReverificationRow, reverifications } from './schema'
import { consumeBackupCode, consumeTotp } from './service'

type Level = ReverificationRow['level']

const stateInvalid = (long: string) =>
  new AppError(400, [{ code: 'client_state_invalid', message: 'not allowed now', long_message: long }])

function toResource(ctx: EnvContext, r: ReverificationRow) {
  const session = ctx.db.select().from(sessions).where(eq(sessions.id, r.sessionId)).get()
  const agg = session ? findUser(ctx, session.userId) : null
  const ch = (id: string | null) => {
    const c = id ? ctx.db.select().from(challenges).where(eq(challenges.id, id)).get() : undefined
    return c ? toChallengeResource(c, ctx.clock.now()) : null
  }
  return {
    object: 'session_reverification' as const,
    id: r.id,
    level: r.level,
    status: r.status,
    supported_first_factors:
      agg && r.status === 'needs_first_factor'
        ? firstFactorsFor(ctx, agg).filter(
            (f) => !f.strategy.startsWith('reset_password') && f.strategy !== 'email_link',
          )
        : [],
    supported_second_factors: agg && r.status === 'needs_second_factor' ? secondFactorsFor(ctx, agg) : [],
    first_factor_verification: ch(r.firstFactorChallengeId),
    second_factor_verification: ch(r.secondFactorChallengeId),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}

function sessionOf(ctx: EnvContext, actor: ClientActor, sid: string) {
  const { session, agg } = requireSession(ctx, actor, sid)
  return { session, agg }
}

/**
 * Step-up: the user proves a factor again; the session's factor ages (the token's `fva`) are
 * reset as each step passes. `second_factor` falls back to a first factor for users without one.
 */
export function startReverification(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  level: Level = 'second_factor',
) {
  const { session, agg } = sessionOf(ctx, actor, sid)
  const hasSecond = secondFactorsFor(ctx, agg).length > 0
  const status = level === 'second_factor' && hasSecond ? 'needs_second_factor' : 'needs_first_factor'
  const now = ctx.clock.now()
  const row: ReverificationRow = {
    id: newId('reverification'),
    sessionId: session.id,
    level: level !== 'first_factor' && !hasSecond ? 'first_factor' : level,
    status,
    firstFactorChallengeId: null,
    secondFactorChallengeId: null,
    createdAt: now,
    updatedAt: now,
  }
  withTx(ctx, (tx) => tx.insert(reverifications).values(row).run())
  return toResource(ctx, row)
}

function current(ctx: EnvContext, sessionId: string): ReverificationRow {
  const r = ctx.db
    .select()
    .from(reverifications)
    .where(eq(reverifications.sessionId, sessionId))
    .orderBy(desc(reverifications.createdAt), desc(reverifications.id))
    .get()
  if (!r) throw stateInvalid('Start a verification first (POST …/verify).')
  return r
}

export function issueReverificationChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  input: { strategy: string; email_address_id?: string; phone_number_id?: string },
) {
  const { session, agg } = sessionOf(ctx, actor, sid)
  const r = current(ctx, session.id)
  if (r.status === 'complete') throw stateInvalid('This verification is complete.')
  const step = r.status === 'needs_first_factor' ? ('first_factor' as const) : ('second_factor' as const)
  const factors = (step === 'first_factor' ? firstFactorsFor(ctx, agg) : secondFactorsFor(ctx, agg)).filter(
    (f) =>
      f.strategy === input.strategy &&
      !f.strategy.startsWith('reset_password') &&
      f.strategy !== 'email_link',
  )
  if (!factors.length)
    throw formError(
      'strategy_for_user_invalid',
      'strategy',
      'is not allowed',
      `${input.strategy} cannot verify this step.`,
    )
  const pick =
    factors.find(
      (f) => f.email_address_id === input.email_address_id || f.phone_number_id === input.phone_number_id,
    ) ??
    factors.find((f) => f.primary) ??
    factors[0]!
  const base = {
    parentType: 'session' as const,
    parentId: session.id,
    step,
    strategy: input.strategy,
    clientId: session.clientId,
  }
  const c = withTx(ctx, (tx, after) => {
    let ch: ChallengeRow
    if (input.strategy === 'email_code' || input.strategy === 'phone_code') {
      const email = agg.emails.find((e) => e.id === pick.email_address_id)
      const phone = agg.phones.find((p) => p.id === pick.phone_number_id)
      ch = issueCodeChallenge(tx, ctx, after, {
        ...base,
        target: email
          ? { id: email.id, value: email.emailAddress }
          : { id: phone!.id, value: phone!.phoneNumber },
        channel: email ? 'email' : 'sms',
        template: 'verification_code',
      })
    } else ch = issueLocalChallenge(tx, ctx, base)
    tx.update(reverifications)
      .set(
        step === 'first_factor'
          ? { firstFactorChallengeId: ch.id, updatedAt: ctx.clock.now() }
          : { secondFactorChallengeId: ch.id, updatedAt: ctx.clock.now() },
      )
      .where(eq(reverifications.id, r.id))
      .run()
    return ch
  })
  return toChallengeResource(c, ctx.clock.now())
}

export async function answerReverificationChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  cid: string,
  input: { code?: string; password?: string },
) {
  const { session, agg } = sessionOf(ctx, actor, sid)
  const r = current(ctx, session.id)
  if (r.status === 'complete') throw stateInvalid('This verification is complete.')
  const c = findChallenge(ctx, 'session', session.id, cid)
  if (!c || (c.id !== r.firstFactorChallengeId && c.id !== r.secondFactorChallengeId))
    throw notFound('challenge')
  assertAnswerable(c, ctx.clock.now())
  let passwordOk: boolean | null = null
  if (c.strategy === 'password') {
    if (input.password === undefined) throw formParamMissing('password')
    passwordOk = agg.user.passwordDigest
      ? await ctx.passwords.verify(input.password, agg.user.passwordDigest)
      : false
  } else if (input.code === undefined) throw formParamMissing('code')
  let failure: AppError | null = null
  const row = withTx(ctx, (tx) => {
    let outcome: AnswerOutcome
    if (passwordOk !== null) {
      outcome = passwordOk
        ? { ok: true, row: markVerified(tx, ctx, c) }
        : recordFailure(
            tx,
            ctx,
            c,
            formError('form_password_incorrect', 'password', 'is incorrect', 'The password is incorrect.'),
          )
    } else if (c.strategy === 'totp' || c.strategy === 'backup_code') {
      const ok =
        c.strategy === 'totp'
          ? consumeTotp(tx, ctx, agg.user.id, input.code!.trim())
          : consumeBackupCode(tx, ctx, agg.user.id, input.code!)
      outcome = ok
        ? { ok: true, row: markVerified(tx, ctx, c) }
        : recordFailure(
            tx,
            ctx,
            c,
            formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.'),
          )
    } else outcome = checkCode(tx, ctx, c, input.code!)
    if (!outcome.ok) {
      failure = recordFailedVerification(tx, ctx, agg.user.id) ?? outcome.error
      return r
    }
    return advance(tx, ctx, r, c.step === 'first_factor' ? 'first' : 'second')
  })
  if (failure) throw failure
  return toResource(ctx, row)
}

function advance(
  tx: EnvTx,
  ctx: EnvContext,
  r: ReverificationRow,
  passed: 'first' | 'second',
): ReverificationRow {
  const now = ctx.clock.now()
  tx.update(sessions)
    .set(
      passed === 'first'
        ? { firstFactorVerifiedAt: now, updatedAt: now }
        : { secondFactorVerifiedAt: now, updatedAt: now },
    )
    .where(eq(sessions.id, r.sessionId))
    .run()
  const status =
    passed === 'first' && r.level === 'multi_factor'
      ? ('needs_second_factor' as const)
      : ('complete' as const)
  tx.update(reverifications)
    .set({ status, updatedAt: now })
    .where(and(eq(reverifications.id, r.id)))
    .run()
  return { ...r, status, updatedAt: now }
}
