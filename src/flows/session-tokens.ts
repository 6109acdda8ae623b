import { mintTemplateToken } from '../domain/jwt-templates/mint'
import { templateOrg } from '../domain/organizations/claims'
import { findSession, isLive, mintSessionToken, sessionTokenRefused } from '../domain/sessions/service'
import { notFound } from '../lib/errors'
import type { EnvContext } from '../tenancy/context'

/**
 * Tokens a backend mints for a session it knows by id (Clerk's `sessions.getToken(sid,
 * template?)`), the same tokens the session's own device refreshes through the Frontend API.
 * A backend has no origin, so the tokens carry no `azp`.
 */
export async function mintSessionTokenById(ctx: EnvContext, sid: string) {
  const s = findSession(ctx, sid)
  if (!s) throw notFound('session')
  return { object: 'token' as const, jwt: await mintSessionToken(ctx, s, null) }
}

export async function mintTemplateTokenById(ctx: EnvContext, sid: string, name: string) {
  const s = findSession(ctx, sid)
  if (!s) throw notFound('session')
  if (!isLive(s, ctx.clock.now())) throw sessionTokenRefused('The session is not active.')
  return mintTemplateToken(ctx, name, {
    userId: s.userId,
    session: { id: s.id, createdAt: s.createdAt, actor: null },
    origin: null,
    org: templateOrg(ctx, s),
  })
}
