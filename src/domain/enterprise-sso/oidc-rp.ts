import { createHash } from 'node:crypto'
import { and, eq, lt } from 'drizzle-orm'
import * as oauth from 'oauth4webapi'
import { seal, unseal } from '../../crypto/seal'
import { randomToken } from '../../crypto/secrets'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { clientSecretOf, routesEmail } from './connections'
import { ssoVerificationFailed } from './errors'
import { requestOptions } from './oidc-discovery'
import type { SamlIdentity } from './saml-sp'
import { type EnterpriseConnectionRow, oidcRequests } from './schema'
import { oidcRedirectUri } from './serialize'

/**
 * Our OIDC relying party for enterprise connections, with oauth4webapi: code flow with PKCE
 * (S256) and a nonce, the shared redirect URI, the id_token's signature checked against the
 * issuer's JWKS (validateApplicationLevelSignature), userinfo when the id_token lacks the email.
 */

const verifierAad = (challengeId: string) => `oidc_requests.code_verifier:${challengeId}`
export const OIDC_REQUEST_TTL_MS = 10 * 60_000

const asOf = (row: EnterpriseConnectionRow) => {
  if (!row.oidcMetadata || !row.oidcIssuer)
    throw ssoVerificationFailed('This connection has no discovered issuer.')
  return row.oidcMetadata as unknown as oauth.AuthorizationServer
}

/**
 * The authorization URL of a sign-in, with a fresh PKCE verifier and nonce (synchronous: it is
 * built inside the sign-in's transaction).
 */
export function authorizationRequest(
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  state: string,
  loginHint: string | null,
) {
  const as = asOf(row)
  const verifier = randomToken(32)
  const nonce = randomToken(24)
  const url = new URL(as.authorization_endpoint!)
  url.searchParams.set('client_id', row.oidcClientId!)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', row.oidcScopes ?? 'openid email profile')
  url.searchParams.set('redirect_uri', oidcRedirectUri(ctx.frontendUrl()))
  url.searchParams.set('state', state)
  url.searchParams.set('nonce', nonce)
  url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'))
  url.searchParams.set('code_challenge_method', 'S256')
  if (loginHint) url.searchParams.set('login_hint', loginHint)
  return { url: url.href, verifier, nonce }
}

/** Remembers the request's verifier (sealed) and nonce for the challenge it belongs to. */
export function rememberAuthorization(
  tx: EnvTx,
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  challengeId: string,
  request: { verifier: string; nonce: string },
) {
  const { verifier, nonce } = request
  const now = ctx.clock.now()
  tx.delete(oidcRequests).where(lt(oidcRequests.expiresAt, now)).run()
  tx.insert(oidcRequests)
    .values({
      challengeId,
      connectionId: row.id,
      codeVerifier: seal(ctx.dataKey, verifier, verifierAad(challengeId)),
      nonce,
      expiresAt: now + OIDC_REQUEST_TTL_MS,
    })
    .run()
}

/** The connection a callback's challenge started at (its OIDC request), if any. */
export const oidcRequestOf = (db: EnvContext['db'] | EnvTx, challengeId: string) =>
  db.select().from(oidcRequests).where(eq(oidcRequests.challengeId, challengeId)).get()

/**
 * Completes the code flow from the shared callback: state and issuer (RFC 9207) checked, the
 * code exchanged with the verifier, the id_token validated (nonce, audience, expiry) and its
 * signature verified with the IdP's JWKS.
 */
export async function completeAuthorization(
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  challengeId: string,
  state: string,
  params: URLSearchParams,
): Promise<SamlIdentity> {
  const refuse = (why: string) => ssoVerificationFailed(`The identity provider's answer was refused: ${why}.`)
  const pending = ctx.db
    .select()
    .from(oidcRequests)
    .where(and(eq(oidcRequests.challengeId, challengeId), eq(oidcRequests.connectionId, row.id)))
    .get()
  if (!pending || pending.expiresAt <= ctx.clock.now())
    throw refuse('this sign-in was not started here or has expired')
  const as = asOf(row)
  const method = row.oidcTokenAuthMethod ?? 'client_secret_basic'
  const client: oauth.Client = { client_id: row.oidcClientId!, token_endpoint_auth_method: method }
  const secret = clientSecretOf(ctx, row) ?? ''
  const auth =
    method === 'none'
      ? oauth.None()
      : method === 'client_secret_post'
        ? oauth.ClientSecretPost(secret)
        : oauth.ClientSecretBasic(secret)
  const tokenUrl = new URL(as.token_endpoint!)
  let claims: oauth.IDToken
  let accessToken: string
  try {
    const callback = oauth.validateAuthResponse(as, client, params, state)
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      callback,
      oidcRedirectUri(ctx.frontendUrl()),
      unseal(ctx.dataKey, pending.codeVerifier, verifierAad(challengeId)),
      requestOptions(ctx, tokenUrl),
    )
    const result = await oauth.processAuthorizationCodeResponse(as, client, res, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    })
    await oauth.validateApplicationLevelSignature(as, res, requestOptions(ctx, new URL(as.jwks_uri!)))
    claims = oauth.getValidatedIdTokenClaims(result)!
    accessToken = result.access_token
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError)
      throw refuse(`${e.error}${e.error_description ? ` (${e.error_description})` : ''}`)
    throw refuse(e instanceof Error ? e.message.replace(/\.$/, '') : 'invalid response')
  }
  let info: Record<string, unknown> = claims
  if (typeof claims.email !== 'string' && as.userinfo_endpoint) {
    try {
      const url = new URL(as.userinfo_endpoint)
      const res = await oauth.userInfoRequest(as, client, accessToken, requestOptions(ctx, url))
      info = { ...(await oauth.processUserInfoResponse(as, client, claims.sub, res)), ...claims }
    } catch (e) {
      throw refuse(`userinfo failed: ${e instanceof Error ? e.message : 'unreachable'}`)
    }
  }
  const map = row.attributeMapping
  const pick = (key: string | undefined, fallback: string) => {
    const v = info[key ?? fallback]
    return typeof v === 'string' && v.trim() ? v.trim() : null
  }
  const email = pick(map.email_address, 'email')
  const subject = map.user_id ? pick(map.user_id, 'sub') : claims.sub
  if (!subject) throw refuse('the mapped user id claim is missing')
  if (!email?.includes('@')) throw refuse('the identity carries no email address')
  // Strings such as "true" exist in the wild: only the boolean counts.
  if (info.email_verified !== true) throw refuse('the identity provider has not verified the email address')
  if (!routesEmail(row, email)) throw refuse(`${email} is not in a domain of this connection`)
  return {
    subject,
    emailAddress: email.toLowerCase(),
    firstName: pick(map.first_name, 'given_name'),
    lastName: pick(map.last_name, 'family_name'),
  }
}

/** The request is used once: deleted in the completing transaction. */
export function consumeAuthorization(tx: EnvTx, challengeId: string): boolean {
  return tx.delete(oidcRequests).where(eq(oidcRequests.challengeId, challengeId)).returning().all().length > 0
}
