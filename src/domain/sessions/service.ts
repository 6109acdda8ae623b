import { and, asc, eq, gt, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm'
import {
  type SessionTokenInput,
  signSessionToken,
  signSessionTokenOffThread,
} from '../../crypto/session-token'
import { type ListQuery, type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { formError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type EmittedEvent, emit, type Reaction } from '../events/service'
import { isMember, orgClaim } from '../organizations/claims'
import { orgNotFound } from '../organizations/errors'
import { isBannedOrGone } from '../users/service'
import { sessionTokenRefused } from './errors'
import { type SessionRow, type SessionStatus, sessions } from './schema'

export { sessionTokenRefused }

const LIVE: SessionStatus[] = ['active', 'pending']

type Db = EnvContext['db'] | EnvTx

/** A token refresh records activity at most this often per session. */
export const TOUCH_INTERVAL_MS = 5_000

/**
 * What ctx.remember() keeps of a session, by its id, for refreshes (src/flows/client): the
 * activity stamp, the one write a refresh makes, changes only that.
 */
export const REFRESHABLE_SESSIONS = 'refreshable-session'

/** A session past its deadlines reads as expired/abandoned before the job gets to it. */
export function effectiveStatus(s: SessionRow, now: number): SessionStatus {
  if (!LIVE.includes(s.status)) return s.status
  if (s.expireAt !== null && now >= s.expireAt) return 'expired'
  if (s.abandonAt !== null && now >= s.abandonAt) return 'abandoned'
  return s.status
}
export const isLive = (s: SessionRow, now: number) => LIVE.includes(effectiveStatus(s, now))

/** effectiveStatus(s, now) === status, in SQL: a live row past a deadline reads as ended by it. */
function effectiveStatusIs(status: SessionStatus, now: number): SQL | undefined {
  const live = inArray(sessions.status, LIVE)
  const notExpired = or(isNull(sessions.expireAt), gt(sessions.expireAt, now))
  const notAbandoned = or(isNull(sessions.abandonAt), gt(sessions.abandonAt, now))
  if (status === 'active' || status === 'pending')
    return and(eq(sessions.status, status), notExpired, notAbandoned)
  if (status === 'expired') return or(eq(sessions.status, 'expired'), and(live, lte(sessions.expireAt, now)))
  if (status === 'abandoned')
    return or(eq(sessions.status, 'abandoned'), and(live, notExpired, lte(sessions.abandonAt, now)))
  return eq(sessions.status, status)
}

export function findSession(ctx: EnvContext, id: string): SessionRow | null {
  if (!isId('session', id)) return null
  return (
    ctx
      .prepared('sessions.byId', (db) =>
        db
          .select()
          .from(sessions)
          .where(eq(sessions.id, sql.placeholder('id')))
          .prepare(),
      )
      .get({ id }) ?? null
  )
}

const minutesSince = (at: number | null, now: number) =>
  at === null ? -1 : Math.max(0, Math.floor((now - at) / 60_000))
export const factorVerificationAge = (s: SessionRow, now: number): [number, number] => [
  minutesSince(s.firstFactorVerifiedAt, now),
  minutesSince(s.secondFactorVerifiedAt, now),
]

export interface NewSession {
  userId: string
  clientId: string
  /** Which factors the sign-in verified just now (the token's `fva`). */
  factorsVerified: { first: boolean; second: boolean }
  /** Open tasks (e.g. `setup-mfa`); a session with tasks starts `pending`. */
  tasks: string[]
  ip: string | null
  userAgent: string | null
}

/**
 * Creates a session inside the caller's transaction (the session door in src/flows). In
 * single-session mode the client's other live sessions end.
 */
export function createSession(tx: EnvTx, ctx: EnvContext, input: NewSession): SessionRow {
  const now = ctx.clock.now()
  const settings = ctx.settings()
  const row: SessionRow = {
    id: newId('session'),
    clientId: input.clientId,
    userId: input.userId,
    status: input.tasks.length ? 'pending' : 'active',
    tasks: input.tasks,
    lastActiveAt: now,
    expireAt:
      settings.session.max_lifetime_seconds === null
        ? null
        : now + settings.session.max_lifetime_seconds * 1000,
    abandonAt:
      settings.session.inactivity_timeout_seconds === null
        ? null
        : now + settings.session.inactivity_timeout_seconds * 1000,
    firstFactorVerifiedAt: now,
    secondFactorVerifiedAt: input.factorsVerified.second ? now : null,
    lastActiveOrganizationId: null,
    ipAddress: input.ip,
    userAgent: input.userAgent,
    endedAt: null,
    createdAt: now,
    updatedAt: now,
  }
  if (!settings.session.multi_session) {
    for (const other of liveClientSessions(tx, input.clientId)) endSession(tx, ctx, other, 'ended')
  }
  tx.insert(sessions).values(row).run()
  emit(tx, ctx, 'session.created', toBapiSession(row, now))
  return row
}

/** A client's sessions whose status is still live (deadlines may have passed). */
export const liveClientSessions = (tx: Db, clientId: string): SessionRow[] =>
  tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.clientId, clientId), inArray(sessions.status, LIVE)))
    .all()

/** Every session a client holds, oldest first (the Client resource lists them). */
export const listClientSessions = (db: Db, clientId: string): SessionRow[] =>
  db
    .select()
    .from(sessions)
    .where(eq(sessions.clientId, clientId))
    .orderBy(asc(sessions.createdAt), asc(sessions.id))
    .all()

type Ending = 'ended' | 'removed' | 'revoked' | 'expired' | 'abandoned'
const EVENT_OF: Record<Ending, string> = {
  ended: 'session.ended',
  removed: 'session.removed',
  revoked: 'session.revoked',
  expired: 'session.expired',
  abandoned: 'session.abandoned',
}

export function endSession(tx: EnvTx, ctx: EnvContext, s: SessionRow, status: Ending): SessionRow {
  const now = ctx.clock.now()
  const ended = { ...s, status, endedAt: s.endedAt ?? now, updatedAt: now }
  tx.update(sessions)
    .set({ status, endedAt: ended.endedAt, updatedAt: now })
    .where(eq(sessions.id, s.id))
    .run()
  emit(tx, ctx, EVENT_OF[status], toBapiSession(ended, now))
  return ended
}

/** Ends every live session of a user (ban, delete, password change). */
export function revokeUserSessions(tx: EnvTx, ctx: EnvContext, userId: string, except?: string) {
  const live = tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), inArray(sessions.status, LIVE)))
    .all()
  for (const s of live) if (s.id !== except) endSession(tx, ctx, s, 'revoked')
}

export function toBapiSession(s: SessionRow, now: number) {
  return {
    object: 'session' as const,
    id: s.id,
    client_id: s.clientId,
    user_id: s.userId,
    status: effectiveStatus(s, now),
    tasks: s.tasks.map((key) => ({ key })),
    last_active_at: s.lastActiveAt,
    expire_at: s.expireAt,
    abandon_at: s.abandonAt,
    last_active_organization_id: s.lastActiveOrganizationId,
    factor_verification_age: factorVerificationAge(s, now),
    actor: null,
    latest_activity: { ip_address: s.ipAddress, user_agent: s.userAgent },
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  }
}
export type BapiSession = ReturnType<typeof toBapiSession>

// ---- BAPI ---------------------------------------------------------------------------------

export function getSession(ctx: EnvContext, id: string): BapiSession {
  const s = findSession(ctx, id)
  if (!s) throw notFound('session')
  return toBapiSession(s, ctx.clock.now())
}

export function listSessions(
  ctx: EnvContext,
  q: {
    user_id?: string
    client_id?: string
    status?: SessionStatus
    cursor?: string
    limit?: number
    include_total_count?: boolean
  },
): Page<BapiSession> {
  if (!q.user_id && !q.client_id) {
    throw formError(
      'form_conditional_param_missing',
      'user_id',
      'is missing',
      'List sessions by user_id or client_id.',
    )
  }
  const now = ctx.clock.now()
  const page = tablePage(
    ctx,
    sessions,
    and(
      q.user_id ? eq(sessions.userId, q.user_id) : undefined,
      q.client_id ? eq(sessions.clientId, q.client_id) : undefined,
      q.status ? effectiveStatusIs(q.status, now) : undefined,
    ),
    q,
  )
  return pageOf(
    page.rows.map((s) => toBapiSession(s, now)),
    page.next_cursor,
    page.total,
  )
}

export function revokeSession(ctx: EnvContext, id: string): BapiSession {
  const s = findSession(ctx, id)
  if (!s) throw notFound('session')
  const now = ctx.clock.now()
  if (!isLive(s, now)) return toBapiSession(s, now)
  return withTx(ctx, (tx) => toBapiSession(endSession(tx, ctx, s, 'revoked'), now))
}

// ---- tokens -------------------------------------------------------------------------------

/**
 * Mints the 60-second session token and pushes the inactivity deadline. The hot path of the
 * Frontend API: one prepared read, one prepared write, one signature (and, with an active
 * organization, one more prepared read for the `o` claim).
 */
export async function mintSessionToken(
  ctx: EnvContext,
  s: SessionRow,
  origin: string | null,
): Promise<string> {
  const now = ctx.clock.now()
  const status = effectiveStatus(s, now)
  if (status !== 'active' && status !== 'pending') throw sessionTokenRefused(`The session is ${status}.`)
  if (isBannedOrGone(ctx, s.userId)) throw sessionTokenRefused('The session user is gone or banned.')
  return issueSessionToken(ctx, s, status, origin, now)
}

/**
 * What a session token says, and the activity it records: every mint ends here, once the
 * session is known to be live (`status`, its effectiveStatus at `now`) and its user neither
 * banned nor gone.
 */
export function issueSessionToken(
  ctx: EnvContext,
  s: SessionRow,
  status: 'active' | 'pending',
  origin: string | null,
  now: number,
): string | Promise<string> {
  // Several tabs refresh within the same seconds: the activity stamp (and the inactivity
  // deadline it pushes) moves at most every TOUCH_INTERVAL_MS.
  if (now - s.lastActiveAt >= TOUCH_INTERVAL_MS) {
    const timeout = ctx.settings().session.inactivity_timeout_seconds
    const touch = ctx.prepared('sessions.touch', () =>
      ctx.client.query<unknown, [number, number | null, string]>(
        'update sessions set last_active_at = ?, abandon_at = ? where id = ?',
      ),
    )
    const abandonAt = timeout === null ? null : now + timeout * 1000
    // Pushing the abandonment later (or dropping it) makes no deadline earlier; a first one, or
    // one a shortened timeout brings forward, does.
    const noEarlierDeadline = abandonAt === null || (s.abandonAt !== null && abandonAt >= s.abandonAt)
    ctx.writeOne(REFRESHABLE_SESSIONS, s.id, () => touch.run(now, abandonAt, s.id), { noEarlierDeadline })
  }
  const org =
    s.lastActiveOrganizationId && ctx.settings().organizations.enabled
      ? orgClaim(ctx, s.userId, s.lastActiveOrganizationId)
      : null
  const input: SessionTokenInput = {
    issuer: ctx.frontendUrl(),
    userId: s.userId,
    sessionId: s.id,
    azp: origin,
    fva: factorVerificationAge(s, now),
    ...(status === 'pending' ? { sts: 'pending' } : {}),
    ...(org ? { org } : {}),
    nowMs: now,
  }
  // The signature goes to Bun's worker threads when the process has cores to spare, unless
  // passwords are being hashed there: then it would wait behind argon2, and refreshes must not
  // (test/e2e/password-flood.test.ts).
  return ctx.offThreadSigning && ctx.passwords.idle
    ? signSessionTokenOffThread(ctx.keys, input)
    : signSessionToken(ctx.keys, input)
}

/** One keyset page of a user's live sessions (active or pending now), newest first. */
export function pageOfLiveUserSessions(ctx: EnvContext, userId: string, q: ListQuery) {
  const now = ctx.clock.now()
  const live = or(effectiveStatusIs('active', now), effectiveStatusIs('pending', now))
  return tablePage(ctx, sessions, and(eq(sessions.userId, userId), live), q)
}

export function listUserSessions(ctx: EnvContext, userId: string): SessionRow[] {
  return ctx.db
    .select()
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .orderBy(asc(sessions.createdAt), asc(sessions.id))
    .all()
}

/** Job: persists expiry and abandonment that reads already report. */
export function expireSessions(ctx: EnvContext) {
  const now = ctx.clock.now()
  const due = ctx.db
    .select()
    .from(sessions)
    .where(
      and(
        inArray(sessions.status, LIVE),
        or(sql`${sessions.expireAt} <= ${now}`, sql`${sessions.abandonAt} <= ${now}`),
      ),
    )
    .limit(500)
    .all()
  if (!due.length) return
  withTx(ctx, (tx) => {
    for (const s of due) endSession(tx, ctx, s, effectiveStatus(s, now) as Ending)
  })
}

interface SessionSqlRow {
  id: string
  client_id: string
  user_id: string
  status: SessionRow['status']
  tasks: string
  last_active_at: number
  expire_at: number | null
  abandon_at: number | null
  first_factor_verified_at: number
  second_factor_verified_at: number | null
  last_active_organization_id: string | null
  ip_address: string | null
  user_agent: string | null
  ended_at: number | null
  created_at: number
  updated_at: number
}

/** A session of one client (raw prepared statement: every token refresh runs it). */
export function findClientSession(ctx: EnvContext, clientId: string, sid: string): SessionRow | null {
  if (!isId('session', sid)) return null
  const r = ctx
    .prepared('sessions.ofClient', () =>
      ctx.client.query<SessionSqlRow, [string, string]>(
        'select * from sessions where id = ? and client_id = ?',
      ),
    )
    .get(sid, clientId)
  if (!r) return null
  return {
    id: r.id,
    clientId: r.client_id,
    userId: r.user_id,
    status: r.status,
    tasks: JSON.parse(r.tasks) as string[],
    lastActiveAt: r.last_active_at,
    expireAt: r.expire_at,
    abandonAt: r.abandon_at,
    firstFactorVerifiedAt: r.first_factor_verified_at,
    secondFactorVerifiedAt: r.second_factor_verified_at,
    lastActiveOrganizationId: r.last_active_organization_id,
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
    endedAt: r.ended_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

/**
 * The session a signed-in call acts for: the one the request names, else the client's last
 * active one; null unless it is live and belongs to that client.
 */
export function currentSession(
  ctx: EnvContext,
  client: { id: string; lastActiveSessionId: string | null } | null,
  sessionId: string | null,
): SessionRow | null {
  if (!client) return null
  const id = sessionId ?? client.lastActiveSessionId
  if (!id) return null
  const s = findSession(ctx, id)
  if (!s || s.clientId !== client.id || !isLive(s, ctx.clock.now())) return null
  return s
}

/** One of the user's sessions (on any device), or null. */
export function findUserSession(ctx: EnvContext, userId: string, id: string): SessionRow | null {
  const s = findSession(ctx, id)
  return s && s.userId === userId ? s : null
}

/**
 * Makes an organization the session's active one (null: the personal account). It must be one
 * the session's user belongs to; anything else reads as not found.
 */
export function setActiveOrganization(
  ctx: EnvContext,
  s: SessionRow,
  organizationId: string | null,
): SessionRow {
  if (organizationId !== null && !isMember(ctx, s.userId, organizationId)) throw orgNotFound()
  if (s.lastActiveOrganizationId === organizationId) return s
  const now = ctx.clock.now()
  ctx.db
    .update(sessions)
    .set({ lastActiveOrganizationId: organizationId, updatedAt: now })
    .where(eq(sessions.id, s.id))
    .run()
  return { ...s, lastActiveOrganizationId: organizationId, updatedAt: now }
}

/** A task is done (the user enrolled a second factor): sessions that only waited on it go active. */
export function completeTask(tx: EnvTx, ctx: EnvContext, userId: string, task: string) {
  const pending = tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.status, 'pending')))
    .all()
  for (const s of pending) {
    const tasks = s.tasks.filter((t) => t !== task)
    tx.update(sessions)
      .set({ tasks, status: tasks.length ? 'pending' : 'active', updatedAt: ctx.clock.now() })
      .where(eq(sessions.id, s.id))
      .run()
  }
}

/** A step-up passed: the factor's age (the token's `fva`) starts again. */
export function markFactorVerified(
  tx: EnvTx,
  ctx: EnvContext,
  sessionId: string,
  factor: 'first' | 'second',
) {
  const now = ctx.clock.now()
  tx.update(sessions)
    .set(
      factor === 'first'
        ? { firstFactorVerifiedAt: now, updatedAt: now }
        : { secondFactorVerifiedAt: now, updatedAt: now },
    )
    .where(eq(sessions.id, sessionId))
    .run()
}

// ---- reactions ------------------------------------------------------------------------------

/** A deleted organization is no session's active one any more. */
export const onOrganizationDeleted: Reaction = (tx, _ctx, event: EmittedEvent) => {
  tx.update(sessions)
    .set({ lastActiveOrganizationId: null })
    .where(eq(sessions.lastActiveOrganizationId, String(event.payload.id)))
    .run()
}

/** A removed member's sessions stop having that organization active (no `o` claim next time). */
export const onMembershipDeleted: Reaction = (tx, _ctx, event: EmittedEvent) => {
  const m = event.payload as { organization?: { id?: string }; public_user_data?: { user_id?: string } }
  const orgId = m.organization?.id
  const userId = m.public_user_data?.user_id
  if (!orgId || !userId) return
  tx.update(sessions)
    .set({ lastActiveOrganizationId: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.lastActiveOrganizationId, orgId)))
    .run()
}
