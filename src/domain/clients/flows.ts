import { and, eq, inArray } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { notFound } from '../../lib/errors'
import { isId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { mintTemplateToken } from '../jwt-templates/mint'
import { setActiveOrganization, templateOrg } from '../organizations/claims'
import { type SessionRow, sessions } from '../sessions/schema'
import { endSession, isLive, mintSessionToken, sessionTokenRefused } from '../sessions/service'
import { type ClientActor, ensureClient, toClientResource, toFapiSession, updateClient } from './service'

export const getClient = (ctx: EnvContext, actor: ClientActor) =>
  actor.client ? toClientResource(ctx, actor.client) : null

/** POST /v1/client: a fresh client for this device (an existing one is left behind). */
export function createFreshClient(ctx: EnvContext, actor: ClientActor) {
  actor.client = null
  const client = withTx(ctx, (tx) => ensureClient(tx, ctx, actor))
  return toClientResource(ctx, client)
}

/** Sign out everywhere on this device: every live session of the client ends. */
export function signOutClient(ctx: EnvContext, actor: ClientActor) {
  const client = actor.client
  if (!client) return null
  withTx(ctx, (tx) => {
    const live = tx
      .select()
      .from(sessions)
      .where(and(eq(sessions.clientId, client.id), inArray(sessions.status, ['active', 'pending'])))
      .all()
    for (const s of live) endSession(tx, ctx, s, 'ended')
    updateClient(tx, ctx, actor, { lastActiveSessionId: null, signInId: null, signUpId: null })
  })
  return toClientResource(ctx, actor.client!)
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

/** A session of the calling client (raw prepared statement: every token refresh runs it). */
export function ownSession(ctx: EnvContext, actor: ClientActor, sid: string): SessionRow {
  const r =
    actor.client && isId('session', sid)
      ? ctx
          .prepared('sessions.ofClient', () =>
            ctx.client.query<SessionSqlRow, [string, string]>(
              'select * from sessions where id = ? and client_id = ?',
            ),
          )
          .get(sid, actor.client.id)
      : null
  if (!r) throw notFound('session')
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

function nextActive(tx: EnvTx, ctx: EnvContext, actor: ClientActor, ended: string) {
  if (actor.client?.lastActiveSessionId !== ended) return
  const now = ctx.clock.now()
  const other = tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.clientId, actor.client.id), inArray(sessions.status, ['active', 'pending'])))
    .all()
    .filter((s) => s.id !== ended && isLive(s, now))
    .at(-1)
  updateClient(tx, ctx, actor, { lastActiveSessionId: other?.id ?? null })
}

/** Sign out of one session (`ended`), or forget it on this device (`removed`). */
export function finishSession(ctx: EnvContext, actor: ClientActor, sid: string, how: 'ended' | 'removed') {
  const s = ownSession(ctx, actor, sid)
  const done = withTx(ctx, (tx) => {
    const out = isLive(s, ctx.clock.now()) || how === 'removed' ? endSession(tx, ctx, s, how) : s
    nextActive(tx, ctx, actor, s.id)
    return out
  })
  return toFapiSession(ctx, done)
}

export const getClientSession = (ctx: EnvContext, actor: ClientActor, sid: string) =>
  toFapiSession(ctx, ownSession(ctx, actor, sid))

/**
 * The refresh every open tab makes about every 50 s. `organizationId` switches the session's
 * active organization first: absent keeps it, `''` is the personal account, anything else must
 * be an organization the user belongs to.
 */
export async function mintToken(ctx: EnvContext, actor: ClientActor, sid: string, organizationId?: string) {
  if (!actor.client) throw sessionTokenRefused('There is no signed-in client on this device.')
  let s = ownSession(ctx, actor, sid)
  if (organizationId !== undefined && isLive(s, ctx.clock.now()))
    s = setActiveOrganization(ctx, s, organizationId || null)
  return { object: 'token' as const, jwt: await mintSessionToken(ctx, s, actor.origin) }
}

/** A token from a JWT template for the signed-in session (`getToken({ template })`). */
export async function mintTemplateTokenForSession(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string,
  name: string,
) {
  if (!actor.client) throw sessionTokenRefused('There is no signed-in client on this device.')
  const s = ownSession(ctx, actor, sid)
  const now = ctx.clock.now()
  if (!isLive(s, now)) throw sessionTokenRefused('The session is not active.')
  return mintTemplateToken(ctx, name, {
    userId: s.userId,
    session: { id: s.id, createdAt: s.createdAt, actor: null },
    origin: actor.origin,
    org: templateOrg(ctx, s),
  })
}
