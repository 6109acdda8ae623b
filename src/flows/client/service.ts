import { withTx } from '../../db/tx'
import { type ClientActor, clientFromToken, ensureClient, updateClient } from '../../domain/clients/service'
import { mintTemplateToken } from '../../domain/jwt-templates/mint'
import { templateOrg } from '../../domain/organizations/claims'
import type { SessionRow } from '../../domain/sessions/schema'
import {
  effectiveStatus,
  endSession,
  findClientSession,
  isLive,
  issueSessionToken,
  liveClientSessions,
  mintSessionToken,
  REFRESHABLE_SESSIONS,
  sessionTokenRefused,
  setActiveOrganization,
} from '../../domain/sessions/service'
import { isBannedOrGone } from '../../domain/users/service'
import { notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { toClientResource, toFapiSession } from './view'

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
    for (const s of liveClientSessions(tx, client.id)) endSession(tx, ctx, s, 'ended')
    updateClient(tx, ctx, actor, { lastActiveSessionId: null, signInId: null, signUpId: null })
  })
  return toClientResource(ctx, actor.client!)
}

/** A session of the calling client, or 404. */
export function ownSession(ctx: EnvContext, actor: ClientActor, sid: string): SessionRow {
  const s = actor.client ? findClientSession(ctx, actor.client.id, sid) : null
  if (!s) throw notFound('session')
  return s
}

/** The client's last active session moves to its newest other live one. */
function nextActive(tx: EnvTx, ctx: EnvContext, actor: ClientActor, ended: string) {
  if (actor.client?.lastActiveSessionId !== ended) return
  const now = ctx.clock.now()
  const other = liveClientSessions(tx, actor.client.id)
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

/**
 * The refresh's usual case: the device's client token is genuine and current, the session is
 * that client's and live, and its user is neither banned nor gone. Null for anything else,
 * which mintToken answers (with its error); the token itself is issueSessionToken's, as for
 * every mint (a promise while it is signed off the JS thread). The reads (one read transaction)
 * are remembered per session until the env is written to: a tab refreshes every minute, and
 * the session's own activity stamp is the only write most refreshes see.
 */
export function refreshSessionToken(
  ctx: EnvContext,
  clientToken: string,
  sid: string,
  origin: string | null,
): string | Promise<string> | null {
  const known = ctx.remember(
    REFRESHABLE_SESSIONS,
    sid,
    () => {
      const session = ctx.read(() => {
        const client = clientFromToken(ctx, clientToken)
        const s = client ? findClientSession(ctx, client.id, sid) : null
        return s && !isBannedOrGone(ctx, s.userId) ? s : null
      })
      if (!session) return null
      // Kept and shared by the refreshes to come: nothing may change it.
      Object.freeze(session.tasks)
      return { clientToken, session: Object.freeze(session) as SessionRow }
    },
    // Another device's client token naming this session is checked from the start.
    (k) => k.clientToken === clientToken,
  )
  if (!known) return null
  const s = known.session
  const now = ctx.clock.now()
  const status = effectiveStatus(s, now)
  if (status !== 'active' && status !== 'pending') return null
  return issueSessionToken(ctx, s, status, origin, now)
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
  if (!isLive(s, ctx.clock.now())) throw sessionTokenRefused('The session is not active.')
  return mintTemplateToken(ctx, name, {
    userId: s.userId,
    session: { id: s.id, createdAt: s.createdAt, actor: null },
    origin: actor.origin,
    org: templateOrg(ctx, s),
  })
}
