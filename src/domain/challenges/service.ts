import { randomInt } from 'node:crypto'
import { and, desc, eq, gt, isNotNull, lte, ne } from 'drizzle-orm'
import { constantTimeEqual, randomToken, sha256Hex } from '../../crypto/secrets'
import { withTx } from '../../db/tx'
import { type AppError, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { isTestIdentifier, queueMessage, TEST_CODE } from '../messages/service'
import type { EmailTemplate, SmsTemplate } from '../messages/templates'
import {
  alreadyVerified,
  codeIncorrect,
  notAnsweredWithCode,
  verificationExpired,
  verificationFailed,
  verificationTooManyRequests,
} from './errors'
import { type ChallengeRow, challenges } from './schema'

export type { ChallengeRow }

export const CODE_TTL_MS = 10 * 60_000
export const LINK_TTL_MS = 10 * 60_000
export const RESEND_COOLDOWN_MS = 30_000
/** Wrong answers a challenge takes before it fails for good. */
export const MAX_ATTEMPTS = 5

type After = (e: () => unknown) => void
type Db = EnvContext['db'] | EnvTx
type ParentType = ChallengeRow['parentType']
type Step = ChallengeRow['step']

export interface ChallengeTarget {
  /** email_address / phone_number id when the identifier exists already. */
  id: string | null
  value: string
}

export const maskIdentifier = (value: string) => {
  if (value.includes('@')) {
    const [local, domain] = value.split('@') as [string, string]
    return `${local.slice(0, 1)}***@${domain}`
  }
  return value.length > 6 ? `${value.slice(0, 2)}${'*'.repeat(value.length - 6)}${value.slice(-4)}` : '***'
}

export function toChallengeResource(c: ChallengeRow, now: number) {
  const expired = c.status === 'unverified' && now >= c.expireAt
  return {
    object: 'challenge' as const,
    id: c.id,
    parent_type: c.parentType,
    parent_id: c.parentId,
    step: c.step,
    strategy: c.strategy,
    status: expired ? ('expired' as const) : c.status,
    safe_identifier: c.target ? maskIdentifier(c.target) : null,
    ...(c.externalUrl ? { external_verification_redirect_url: c.externalUrl } : {}),
    target_id: c.targetId,
    attempts: c.attempts,
    expire_at: c.expireAt,
    verified_at: c.verifiedAt,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  }
}
export type ChallengeResource = ReturnType<typeof toChallengeResource>

export function findChallenge(
  ctx: EnvContext,
  parentType: ParentType,
  parentId: string,
  id: string,
): ChallengeRow | null {
  return (
    ctx.db
      .select()
      .from(challenges)
      .where(
        and(eq(challenges.id, id), eq(challenges.parentType, parentType), eq(challenges.parentId, parentId)),
      )
      .get() ?? null
  )
}

/** A challenge as the wire shows it, by id (a parent's current challenge); null when none. */
export function challengeResourceById(ctx: EnvContext, id: string | null): ChallengeResource | null {
  if (!id) return null
  const c = ctx.db.select().from(challenges).where(eq(challenges.id, id)).get()
  return c ? toChallengeResource(c, ctx.clock.now()) : null
}

export function findChallengeById(db: Db, id: string): ChallengeRow | null {
  return db.select().from(challenges).where(eq(challenges.id, id)).get() ?? null
}

/** The parent's newest challenge, whatever its state. */
export const latestChallenge = (db: Db, parentType: ParentType, parentId: string): ChallengeRow | null =>
  db
    .select()
    .from(challenges)
    .where(and(eq(challenges.parentType, parentType), eq(challenges.parentId, parentId)))
    .orderBy(desc(challenges.createdAt), desc(challenges.id))
    .get() ?? null

/** A parent is going away: its challenges go with it. */
export function deleteChallengesOf(tx: EnvTx, parentType: ParentType, parentId: string) {
  tx.delete(challenges)
    .where(and(eq(challenges.parentType, parentType), eq(challenges.parentId, parentId)))
    .run()
}

/** The challenge `id` of that parent, or 404 (a challenge of another parent is not found). */
export function requireChallenge(
  ctx: EnvContext,
  parentType: ParentType,
  parentId: string,
  id: string,
): ChallengeRow {
  const c = findChallenge(ctx, parentType, parentId, id)
  if (!c) throw notFound('challenge')
  return c
}

/** A new challenge of a step replaces the parent's pending one of that step. */
function supersede(tx: EnvTx, ctx: EnvContext, parentType: ParentType, parentId: string, step: Step) {
  tx.update(challenges)
    .set({ status: 'expired', updatedAt: ctx.clock.now() })
    .where(
      and(
        eq(challenges.parentType, parentType),
        eq(challenges.parentId, parentId),
        eq(challenges.step, step),
        eq(challenges.status, 'unverified'),
      ),
    )
    .run()
}

/**
 * At most one code or link per identifier every 30 s, whichever flow asks (sign-in, sign-up,
 * profile): the limit protects the inbox and the SMS bill, not one attempt.
 */
export function assertCooldown(tx: EnvTx, ctx: EnvContext, target: string) {
  // Test identifiers send nothing, so there is nothing to protect.
  if (isTestIdentifier(ctx, target)) return
  const now = ctx.clock.now()
  // A challenge that failed (too many wrong answers) does not hold the next one back.
  const last = tx
    .select({ createdAt: challenges.createdAt })
    .from(challenges)
    .where(
      and(
        eq(challenges.target, target),
        gt(challenges.createdAt, now - RESEND_COOLDOWN_MS),
        ne(challenges.status, 'failed'),
      ),
    )
    .all()
    .at(-1)
  if (last)
    throw verificationTooManyRequests(
      Math.max(1, Math.ceil((RESEND_COOLDOWN_MS - (now - last.createdAt)) / 1000)),
    )
}

interface IssueBase {
  parentType: ParentType
  parentId: string
  step: Step
  strategy: string
  clientId: string | null
}

/** A new, unanswered challenge of `input`, with the parts that differ by kind. */
function newChallenge(
  input: IssueBase,
  now: number,
  ttlMs: number,
  parts: Partial<
    Pick<
      ChallengeRow,
      'id' | 'targetId' | 'target' | 'codeHash' | 'linkTokenHash' | 'redirectUrl' | 'externalUrl'
    >
  >,
): ChallengeRow {
  return {
    id: parts.id ?? newId('challenge'),
    parentType: input.parentType,
    parentId: input.parentId,
    step: input.step,
    strategy: input.strategy,
    status: 'unverified',
    targetId: parts.targetId ?? null,
    target: parts.target ?? null,
    codeHash: parts.codeHash ?? null,
    linkTokenHash: parts.linkTokenHash ?? null,
    redirectUrl: parts.redirectUrl ?? null,
    externalUrl: parts.externalUrl ?? null,
    payload: null,
    clientId: input.clientId,
    verifiedFromClientId: null,
    attempts: 0,
    expireAt: now + ttlMs,
    verifiedAt: null,
    createdAt: now,
    updatedAt: now,
  }
}

/** A 6-digit code by email or SMS (email_code, phone_code, reset_password_*_code). */
export function issueCodeChallenge(
  tx: EnvTx,
  ctx: EnvContext,
  after: After,
  input: IssueBase & {
    target: ChallengeTarget
    channel: 'email' | 'sms'
    template: EmailTemplate & SmsTemplate
  },
): ChallengeRow {
  assertCooldown(tx, ctx, input.target.value)
  supersede(tx, ctx, input.parentType, input.parentId, input.step)
  const now = ctx.clock.now()
  const id = newId('challenge')
  const code = isTestIdentifier(ctx, input.target.value)
    ? TEST_CODE
    : String(randomInt(0, 1_000_000)).padStart(6, '0')
  const row = newChallenge(input, now, CODE_TTL_MS, {
    id,
    targetId: input.target.id,
    target: input.target.value,
    codeHash: sha256Hex(`${id}:${code}`),
  })
  tx.insert(challenges).values(row).run()
  queueMessage(tx, ctx, after, {
    channel: input.channel,
    template: input.template,
    to: input.target.value,
    vars: { code },
    secret: true,
  })
  return row
}

/**
 * A magic link to the env's Frontend API (`/v1/client/handshake?__authn_ticket=…`); opening it
 * verifies the challenge and redirects to `redirectUrl` with the outcome.
 */
export function issueLinkChallenge(
  tx: EnvTx,
  ctx: EnvContext,
  after: After,
  input: IssueBase & {
    target: ChallengeTarget
    redirectUrl: string
    frontendUrl: string
    template: EmailTemplate
  },
): ChallengeRow {
  assertCooldown(tx, ctx, input.target.value)
  supersede(tx, ctx, input.parentType, input.parentId, input.step)
  const now = ctx.clock.now()
  const token = randomToken(32)
  const row = newChallenge(input, now, LINK_TTL_MS, {
    targetId: input.target.id,
    target: input.target.value,
    linkTokenHash: sha256Hex(token),
    redirectUrl: input.redirectUrl,
  })
  tx.insert(challenges).values(row).run()
  const url = `${input.frontendUrl}/v1/client/handshake?__authn_ticket=${encodeURIComponent(token)}`
  queueMessage(tx, ctx, after, {
    channel: 'email',
    template: input.template,
    to: input.target.value,
    vars: { action_url: url },
    secret: true,
  })
  return row
}

/** How long a browser may take at an external provider before coming back. */
export const REDIRECT_TTL_MS = 10 * 60_000

/**
 * A redirect factor's challenge: the browser is sent to `externalUrl` and comes back with the
 * opaque `state`, which finds this challenge again (only its hash is stored); the browser then
 * returns to `redirectUrl`.
 */
export function issueRedirectChallenge(
  tx: EnvTx,
  ctx: EnvContext,
  input: IssueBase & { state: string; externalUrl: string; redirectUrl: string | null },
): ChallengeRow {
  supersede(tx, ctx, input.parentType, input.parentId, input.step)
  const row = newChallenge(input, ctx.clock.now(), REDIRECT_TTL_MS, {
    linkTokenHash: sha256Hex(input.state),
    externalUrl: input.externalUrl,
    redirectUrl: input.redirectUrl,
  })
  tx.insert(challenges).values(row).run()
  return row
}

/** The challenge an opaque `state` (or a magic link's token) belongs to. */
export const findByState = (ctx: EnvContext, state: string) => findByLinkToken(ctx, state)

/** The parent's newest redirect challenge (a sign-up started with a social strategy); null when none. */
export const latestRedirectChallenge = (
  db: Db,
  parentType: ParentType,
  parentId: string,
): ChallengeRow | null =>
  db
    .select()
    .from(challenges)
    .where(
      and(
        eq(challenges.parentType, parentType),
        eq(challenges.parentId, parentId),
        isNotNull(challenges.externalUrl),
      ),
    )
    .orderBy(desc(challenges.createdAt), desc(challenges.id))
    .get() ?? null

/** The verification failed for good (an external provider refused it). */
export function failChallenge(tx: EnvTx, ctx: EnvContext, c: ChallengeRow) {
  tx.update(challenges)
    .set({ status: 'failed', updatedAt: ctx.clock.now() })
    .where(eq(challenges.id, c.id))
    .run()
}

/** A provider vouched for an identity nobody has: a sign-up may take it over. */
export function markTransferable(
  tx: EnvTx,
  ctx: EnvContext,
  c: ChallengeRow,
  payload: Record<string, unknown>,
) {
  const now = ctx.clock.now()
  tx.update(challenges)
    .set({ status: 'transferable', payload, verifiedAt: now, updatedAt: now })
    .where(eq(challenges.id, c.id))
    .run()
}

/**
 * A challenge answered in place (password, TOTP, backup code) or checked by us later (a DNS
 * record): nothing is sent.
 */
export function issueLocalChallenge(
  tx: EnvTx,
  ctx: EnvContext,
  input: IssueBase & { targetId?: string | null; ttlMs?: number },
): ChallengeRow {
  supersede(tx, ctx, input.parentType, input.parentId, input.step)
  const now = ctx.clock.now()
  const row = newChallenge(input, now, input.ttlMs ?? CODE_TTL_MS, { targetId: input.targetId ?? null })
  tx.insert(challenges).values(row).run()
  return row
}

/**
 * Enumeration protection: a code challenge for an identifier nobody owns. It honours the
 * resend cooldown and sends nothing; its code hash is random, so every answer fails like a
 * wrong code.
 */
export function issueDecoyChallenge(tx: EnvTx, ctx: EnvContext, input: IssueBase, identifier: string) {
  assertCooldown(tx, ctx, identifier)
  supersede(tx, ctx, input.parentType, input.parentId, input.step)
  const row = newChallenge(input, ctx.clock.now(), CODE_TTL_MS, {
    target: identifier,
    codeHash: randomToken(32),
  })
  tx.insert(challenges).values(row).run()
  return row
}

/** Does the code match the one this challenge sent? (No bookkeeping: see checkCode.) */
export const codeMatches = (c: ChallengeRow, code: string): boolean =>
  !!c.codeHash && constantTimeEqual(sha256Hex(`${c.id}:${code.trim()}`), c.codeHash)

/** Throws unless the challenge can still be answered. */
export function assertAnswerable(c: ChallengeRow, now: number) {
  if (c.status === 'verified' || c.status === 'transferable') throw alreadyVerified()
  if (c.status === 'failed') throw verificationFailed()
  if (c.status === 'expired' || now >= c.expireAt) throw verificationExpired()
}

export type AnswerOutcome =
  | { ok: true; row: ChallengeRow }
  | { ok: false; error: AppError; row: ChallengeRow }

/**
 * Checks a code inside the caller's transaction. A wrong answer is recorded (attempts, and
 * `failed` at the cap) and reported as an outcome, so the caller can commit the count before
 * throwing the error.
 */
export function checkCode(tx: EnvTx, ctx: EnvContext, c: ChallengeRow, code: string): AnswerOutcome {
  const now = ctx.clock.now()
  if (c.status === 'unverified' && now >= c.expireAt) {
    tx.update(challenges).set({ status: 'expired', updatedAt: now }).where(eq(challenges.id, c.id)).run()
    return { ok: false, error: verificationExpired(), row: { ...c, status: 'expired' } }
  }
  assertAnswerable(c, now)
  if (!c.codeHash) throw notAnsweredWithCode()
  if (constantTimeEqual(sha256Hex(`${c.id}:${code.trim()}`), c.codeHash)) {
    const row = { ...c, status: 'verified' as const, verifiedAt: now, updatedAt: now }
    tx.update(challenges)
      .set({ status: 'verified', verifiedAt: now, updatedAt: now })
      .where(eq(challenges.id, c.id))
      .run()
    return { ok: true, row }
  }
  return recordFailure(tx, ctx, c, codeIncorrect())
}

/** An unanswered challenge past its deadline reads as expired from now on. */
export function expireChallenge(tx: EnvTx, ctx: EnvContext, c: ChallengeRow) {
  tx.update(challenges)
    .set({ status: 'expired', updatedAt: ctx.clock.now() })
    .where(eq(challenges.id, c.id))
    .run()
}

export function recordFailure(tx: EnvTx, ctx: EnvContext, c: ChallengeRow, error: AppError): AnswerOutcome {
  const now = ctx.clock.now()
  const attempts = c.attempts + 1
  const status = attempts >= MAX_ATTEMPTS ? ('failed' as const) : c.status
  tx.update(challenges).set({ attempts, status, updatedAt: now }).where(eq(challenges.id, c.id)).run()
  return {
    ok: false,
    error: status === 'failed' ? verificationFailed() : error,
    row: { ...c, attempts, status },
  }
}

export function markVerified(
  tx: EnvTx,
  ctx: EnvContext,
  c: ChallengeRow,
  fromClientId?: string | null,
): ChallengeRow {
  const now = ctx.clock.now()
  tx.update(challenges)
    .set({ status: 'verified', verifiedAt: now, verifiedFromClientId: fromClientId ?? null, updatedAt: now })
    .where(eq(challenges.id, c.id))
    .run()
  return {
    ...c,
    status: 'verified',
    verifiedAt: now,
    verifiedFromClientId: fromClientId ?? null,
    updatedAt: now,
  }
}

export function findByLinkToken(ctx: EnvContext, token: string): ChallengeRow | null {
  return (
    ctx.db
      .select()
      .from(challenges)
      .where(eq(challenges.linkTokenHash, sha256Hex(token)))
      .get() ?? null
  )
}

/** Job: marks challenges past their deadline expired. */
export function expireChallenges(ctx: EnvContext) {
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.update(challenges)
      .set({ status: 'expired', updatedAt: now })
      .where(and(eq(challenges.status, 'unverified'), lte(challenges.expireAt, now)))
      .run()
  })
}

/**
 * Answers a code challenge in one transaction: on the right code `onVerified` makes the change;
 * a wrong one is committed (attempts, `failed` at the cap) and then thrown.
 */
export function answerWithCode<T>(
  ctx: EnvContext,
  c: ChallengeRow,
  code: string,
  onVerified: (tx: EnvTx, verified: ChallengeRow) => T,
): T {
  let failure: AppError | null = null
  const result = withTx(ctx, (tx) => {
    const outcome = checkCode(tx, ctx, c, code)
    if (!outcome.ok) {
      failure = outcome.error
      return undefined
    }
    return onVerified(tx, outcome.row)
  })
  if (failure) throw failure
  return result as T
}
