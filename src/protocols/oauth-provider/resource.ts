import { withTx } from '../../db/tx'
import type { OauthTokenRow } from '../../domain/oauth/schema'
import { parseScopes } from '../../domain/oauth/scopes'
import { findAccessToken, findRefreshToken, revokeAccessToken, revokeToken } from '../../domain/oauth/tokens'
import { findUser } from '../../domain/users/service'
import type { EnvContext } from '../../tenancy/context'
import { claimsFor } from './claims'
import { authenticateClient } from './client-auth'
import { invalidRequest, invalidToken } from './errors'
import { type AccessTokenClaims, readAccessToken } from './jwt'
import type { Params } from './params'

/** An access token that is ours, unexpired, and whose grant still stands. */
export function liveAccessToken(
  ctx: EnvContext,
  token: string,
  issuer: string,
): { claims: AccessTokenClaims; row: OauthTokenRow } | null {
  const claims = readAccessToken(ctx, token, issuer)
  if (!claims || typeof claims.jti !== 'string') return null
  const row = findAccessToken(ctx, claims.jti)
  return row ? { claims, row } : null
}

/** The bearer token of a userinfo call: the header, or (POST) the form body, not both. */
export function bearerOf(request: Request, form: Params | null): string {
  const header = request.headers.get('authorization')
  const fromHeader = header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined
  const fromBody = form?.get('access_token')
  if (fromHeader && fromBody) throw invalidRequest('Send the access token once: the header or the body.')
  const token = fromHeader ?? fromBody
  if (!token) throw invalidToken('No access token was sent.')
  return token
}

/** GET|POST /oauth/userinfo: the user's claims, filtered by the token's scopes. */
export function userinfo(ctx: EnvContext, token: string, issuer: string) {
  const live = liveAccessToken(ctx, token, issuer)
  if (!live) throw invalidToken()
  const user = findUser(ctx, live.row.userId)
  if (!user) throw invalidToken()
  const scopes = parseScopes(live.row.scopes)
  return {
    sub: user.user.id,
    user_id: user.user.id,
    object: 'userinfo',
    instance_id: ctx.id,
    ...claimsFor(user, scopes),
  }
}

const INACTIVE = { active: false } as const

/** POST /oauth/token_info (RFC 7662): only the client a token was issued to learns about it. */
export function introspect(ctx: EnvContext, request: Request, form: Params, issuer: string) {
  const app = authenticateClient(ctx, request, form, { requireSecret: true })
  const token = form.get('token')
  if (!token) throw invalidRequest('token is missing.')
  if (token.length > 8192) return INACTIVE
  const live = liveAccessToken(ctx, token, issuer)
  if (live) {
    if (live.row.applicationId !== app.id) return INACTIVE
    const c = live.claims
    return {
      active: true,
      scope: live.row.scopes,
      client_id: app.clientId,
      sub: live.row.userId,
      exp: c.exp,
      iat: c.iat,
      nbf: c.iat,
      iss: issuer,
      aud: c.aud,
      jti: c.jti,
      sid: live.row.sessionId,
      token_type: 'access_token',
    }
  }
  const refresh = findRefreshToken(ctx, token)
  if (!refresh || refresh.usedAt !== null || refresh.applicationId !== app.id) return INACTIVE
  return {
    active: true,
    scope: refresh.scopes,
    client_id: app.clientId,
    sub: refresh.userId,
    iat: Math.floor(refresh.createdAt / 1000),
    iss: issuer,
    sid: refresh.sessionId,
    token_type: 'refresh_token',
  }
}

/**
 * POST /oauth/revoke (RFC 7009): an access token stops at once; a refresh token takes every
 * token of its grant with it. Unknown or foreign tokens are answered the same way (200).
 */
export function revoke(ctx: EnvContext, request: Request, form: Params, issuer: string) {
  const app = authenticateClient(ctx, request, form)
  const token = form.get('token')
  if (!token) throw invalidRequest('token is missing.')
  if (token.length > 8192) return {}
  const access = liveAccessToken(ctx, token, issuer)
  if (access) {
    if (access.row.applicationId === app.id) withTx(ctx, (tx) => revokeAccessToken(tx, access.claims.jti))
    return {}
  }
  const row = findRefreshToken(ctx, token)
  if (row && row.applicationId === app.id) withTx(ctx, (tx) => revokeToken(tx, row))
  return {}
}
