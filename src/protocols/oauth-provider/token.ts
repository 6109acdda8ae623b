import { createHash } from 'node:crypto'
import { randomToken } from '../../crypto/secrets'
import { withTx } from '../../db/tx'
import type { OauthApplicationRow } from '../../domain/oauth/schema'
import { parseScopes } from '../../domain/oauth/scopes'
import { grantOf, revokeGrantById } from '../../domain/oauth/service'
import {
  claimCode,
  findCode,
  findRefreshToken,
  insertToken,
  revokeTokensOfCode,
  spendRefreshToken,
  touchGrant,
} from '../../domain/oauth/tokens'
import { findUser } from '../../domain/users/service'
import type { EnvContext } from '../../tenancy/context'
import { claimsFor } from './claims'
import { authenticateClient } from './client-auth'
import { invalidGrant, invalidRequest, OAuthError } from './errors'
import { ACCESS_TOKEN_TTL_S, atHash, ID_TOKEN_TTL_S, newJti, signAccessToken, signIdToken } from './jwt'
import type { Params } from './params'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/
/** A refresh updates its grant's last_used_at at most this often (one write less per refresh). */
const GRANT_TOUCH_INTERVAL_MS = 60_000

/** What the tokens are minted from: a code or a refresh token, already checked. */
interface Issue {
  app: OauthApplicationRow
  userId: string
  sessionId: string
  scopes: string[]
  authTime: number
  nonce: string | null
  refresh: boolean
  /**
   * An id_token comes with the code exchange only. OIDC Core §12.2 lets a refresh answer
   * without one (the client keeps the first; its sub and auth_time cannot change): a refresh
   * then costs one signature and no user read.
   */
  idToken: boolean
}

/** Signs the access token and id_token: outside the transaction (DESIGN.md). */
function mint(ctx: EnvContext, issuer: string, i: Issue) {
  const key = ctx.keys.signingKey(ctx.clock.now())
  const iat = Math.floor(ctx.clock.now() / 1000)
  const jti = newJti()
  const scope = i.scopes.join(' ')
  const accessToken = signAccessToken(key, {
    iss: issuer,
    sub: i.userId,
    aud: issuer,
    client_id: i.app.clientId,
    scope,
    sid: i.sessionId,
    auth_time: i.authTime,
    jti,
    iat,
    exp: iat + ACCESS_TOKEN_TTL_S,
  })
  let idToken: string | undefined
  if (i.idToken && i.scopes.includes('openid')) {
    const user = findUser(ctx, i.userId)
    if (!user) throw invalidGrant('The user no longer exists.')
    idToken = signIdToken(key, {
      ...claimsFor(user, i.scopes),
      iss: issuer,
      sub: i.userId,
      aud: i.app.clientId,
      azp: i.app.clientId,
      sid: i.sessionId,
      auth_time: i.authTime,
      ...(i.nonce !== null ? { nonce: i.nonce } : {}),
      at_hash: atHash(key.alg, accessToken),
      jti: newJti(),
      iat,
      exp: iat + ID_TOKEN_TTL_S,
    })
  }
  const refreshToken = i.refresh ? `ort_${randomToken(32)}` : undefined
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_S,
    scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(idToken ? { id_token: idToken } : {}),
  }
  return { response, jti, refreshToken, expiresAt: (iat + ACCESS_TOKEN_TTL_S) * 1000 }
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url')

async function authorizationCodeGrant(
  ctx: EnvContext,
  app: OauthApplicationRow,
  form: Params,
  issuer: string,
) {
  const code = form.get('code')
  if (!code) throw invalidRequest('code is missing.')
  const row = code.length <= 512 ? findCode(ctx.db, code) : undefined
  if (!row || row.applicationId !== app.id) throw invalidGrant('The authorization code is invalid.')
  const now = ctx.clock.now()
  if (row.usedAt !== null) {
    // A replayed code: whatever it led to is taken back (RFC 6749 §4.1.2).
    withTx(ctx, (tx) => revokeTokensOfCode(tx, row.id))
    ctx.log.warn(
      { code_id: row.id, client_id: app.clientId },
      'authorization code replayed; its tokens are revoked',
    )
    throw invalidGrant('The authorization code has already been used.')
  }
  if (row.expiresAt <= now) throw invalidGrant('The authorization code has expired.')
  const redirectUri = form.get('redirect_uri')
  if (row.redirectUri !== null) {
    if (redirectUri !== row.redirectUri)
      throw invalidGrant('redirect_uri differs from the one in the authorization request.')
  } else if (redirectUri !== undefined && !app.redirectUris.includes(redirectUri)) {
    throw invalidGrant('redirect_uri differs from the one in the authorization request.')
  }
  const verifier = form.get('code_verifier')
  if (row.codeChallenge !== null) {
    if (verifier === undefined) throw invalidGrant('code_verifier is missing (the request used PKCE).')
    if (!VERIFIER.test(verifier) || s256(verifier) !== row.codeChallenge)
      throw invalidGrant('code_verifier does not match the code_challenge.')
  } else if (verifier !== undefined) {
    // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
    throw invalidGrant('code_verifier was sent but the authorization request had no code_challenge.')
  }
  const scopes = parseScopes(row.scopes)
  const minted = mint(ctx, issuer, {
    app,
    userId: row.userId,
    sessionId: row.sessionId,
    scopes,
    authTime: row.authTime,
    nonce: row.nonce,
    refresh: row.offline,
    idToken: true,
  })
  withTx(ctx, (tx) => {
    if (!claimCode(tx, row.id, now)) throw invalidGrant('The authorization code has already been used.')
    const base = {
      grantId: row.grantId,
      applicationId: app.id,
      userId: row.userId,
      sessionId: row.sessionId,
      codeId: row.id,
      parentId: null,
      scopes: row.scopes,
      authTime: row.authTime,
    }
    insertToken(tx, ctx, 'access', minted.jti, { ...base, expiresAt: minted.expiresAt })
    if (minted.refreshToken)
      insertToken(tx, ctx, 'refresh', minted.refreshToken, { ...base, expiresAt: null })
    touchGrant(ctx, row.grantId, now)
  })
  return minted.response
}

/** The seed: a refresh token of a revoked grant is a 401 invalid_grant (no WWW-Authenticate). */
const refreshRefused = (why: string) => invalidGrant(why, 401)

async function refreshTokenGrant(ctx: EnvContext, app: OauthApplicationRow, form: Params, issuer: string) {
  const token = form.get('refresh_token')
  if (!token) throw invalidRequest('refresh_token is missing.')
  const row = token.length <= 512 ? findRefreshToken(ctx, token) : undefined
  if (!row) throw refreshRefused('The refresh token is invalid or was revoked.')
  if (row.applicationId !== app.id) throw invalidGrant('The refresh token was not issued to this client.')
  if (row.usedAt !== null) {
    // Reuse of a spent token: someone else may hold the family, so the whole grant goes.
    withTx(ctx, (tx) => revokeGrantById(tx, ctx, row.grantId))
    ctx.log.warn({ grant_id: row.grantId, client_id: app.clientId }, 'refresh token reused; grant revoked')
    throw refreshRefused('The refresh token was already used; the grant is revoked.')
  }
  const grant = grantOf(ctx, app.id, row.userId)
  if (!grant || grant.id !== row.grantId) throw refreshRefused('The grant was revoked.')
  const had = parseScopes(row.scopes)
  const asked = form.has('scope') ? parseScopes(form.get('scope')) : had
  const wider = asked.filter((s) => !had.includes(s))
  if (wider.length)
    throw new OAuthError('invalid_scope', `The refresh token does not carry: ${wider.join(' ')}.`)
  const minted = mint(ctx, issuer, {
    app,
    userId: row.userId,
    sessionId: row.sessionId,
    scopes: asked,
    authTime: row.authTime,
    nonce: null,
    refresh: true,
    idToken: false,
  })
  const now = ctx.clock.now()
  const raced = withTx(ctx, (tx) => {
    if (!spendRefreshToken(ctx, row.id, now)) {
      revokeGrantById(tx, ctx, row.grantId)
      return true
    }
    const base = {
      grantId: row.grantId,
      applicationId: app.id,
      userId: row.userId,
      sessionId: row.sessionId,
      codeId: row.codeId,
      scopes: asked.join(' '),
      authTime: row.authTime,
    }
    // One row per refresh: the new refresh token records the access token minted with it, when
    // both carry the same scopes. A narrowed access token gets its own row.
    const narrowed = base.scopes !== row.scopes
    if (narrowed)
      insertToken(tx, ctx, 'access', minted.jti, { ...base, parentId: row.id, expiresAt: minted.expiresAt })
    // The new refresh token keeps the scopes of the family, however narrow this access token is.
    insertToken(tx, ctx, 'refresh', minted.refreshToken!, {
      ...base,
      scopes: row.scopes,
      parentId: row.id,
      expiresAt: null,
      accessJti: narrowed ? null : minted.jti,
    })
    // last_used_at is for people reading their list of apps: a minute's precision is plenty.
    if (grant.lastUsedAt === null || now - grant.lastUsedAt >= GRANT_TOUCH_INTERVAL_MS)
      touchGrant(ctx, row.grantId, now)
    return false
  })
  if (raced) throw refreshRefused('The refresh token was already used; the grant is revoked.')
  return minted.response
}

/** POST /oauth/token. */
export async function tokenEndpoint(ctx: EnvContext, request: Request, form: Params, issuer: string) {
  const grantType = form.get('grant_type')
  if (!grantType) throw invalidRequest('grant_type is missing.')
  const app = authenticateClient(ctx, request, form)
  if (grantType === 'authorization_code') return authorizationCodeGrant(ctx, app, form, issuer)
  if (grantType === 'refresh_token') return refreshTokenGrant(ctx, app, form, issuer)
  throw new OAuthError('unsupported_grant_type', 'Supported: authorization_code, refresh_token.')
}
