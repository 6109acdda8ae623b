import { createPrivateKey, createSign, type KeyObject } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { unseal } from '../../crypto/seal'
import { AppError } from '../../lib/errors'
import { assertPublicHost, PrivateAddressError } from '../../lib/private-network'
import type { EnvContext } from '../../tenancy/context'
import { type AttributeMapping, type EmailsSource, presetOf, type TokenAuthMethod } from './presets'
import type { OauthProviderRow } from './schema'

/**
 * Talking to a provider as its OAuth 2.0 / OIDC client, with oauth4webapi doing the protocol
 * (state, PKCE, token response, id_token claims and signature, RFC 9207 `iss`) and this module
 * doing what is provider-specific (the preset's data, profile normalisation).
 *
 * Outbound calls from a production env go to public https hosts only (the URLs are the
 * operator's, but the server must not be turned against its own network); development envs may
 * use http and loopback (a local IdP while building an app, and our tests).
 */

const OIDC_DEFAULT_MAPPING: AttributeMapping = {
  user_id: 'sub',
  email: 'email',
  email_verified: 'email_verified',
  first_name: 'given_name',
  last_name: 'family_name',
  name: 'name',
  username: 'preferred_username',
  image_url: 'picture',
}

const UPSTREAM_TIMEOUT_MS = 10_000

/** Everything a flow needs to talk to one provider, the row's settings over its preset's. */
export interface ProviderConfig {
  row: OauthProviderRow
  protocol: 'oidc' | 'oauth2'
  as: oauth.AuthorizationServer
  client: oauth.Client
  clientAuth: () => oauth.ClientAuth
  scopes: string[]
  scopeSeparator: string
  pkce: boolean
  mapping: AttributeMapping
  emails?: EmailsSource
  authParams: Record<string, string>
  profileHeaders: Record<string, string>
  formPost: boolean
  issuerFromClaims?: (claims: Record<string, unknown>) => string | null
  callbackUrl: string
  options: { [oauth.allowInsecureRequests]?: boolean; [oauth.customFetch]: typeof fetch }
}

export const secretAad = (id: string) => `oauth_providers.client_secret:${id}`
export const privateKeyAad = (id: string) => `oauth_providers.private_key:${id}`

/** Lifetime of a minted client-secret JWT: one token request (Apple allows up to 6 months). */
const CLIENT_SECRET_JWT_TTL_S = 300

/** Reads a `.p8` signing key (PKCS#8 PEM, EC P-256); null when it is not one. */
export function ecSigningKey(pem: string): KeyObject | null {
  try {
    const key = createPrivateKey(pem)
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      ? key
      : null
  } catch {
    return null
  }
}

/**
 * Apple's client secret: an ES256 JWT `{iss: team id, sub: client id, aud, iat, exp}` with the
 * key id in the header, signed with the operator's `.p8` key.
 */
export function mintClientSecretJwt(p: {
  key: KeyObject
  keyId: string
  teamId: string
  clientId: string
  audience: string
  nowSeconds: number
}): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc({ alg: 'ES256', kid: p.keyId, typ: 'JWT' })}.${enc({
    iss: p.teamId,
    sub: p.clientId,
    aud: p.audience,
    iat: p.nowSeconds,
    exp: p.nowSeconds + CLIENT_SECRET_JWT_TTL_S,
  })}`
  const sig = createSign('SHA256').update(input).sign({ key: p.key, dsaEncoding: 'ieee-p1363' })
  return `${input}.${sig.toString('base64url')}`
}

export const callbackUrlOf = (ctx: EnvContext, providerKey: string) =>
  `${ctx.frontendUrl()}/v1/oauth-callback/${providerKey}`

/** The fetch every upstream call goes through: time-boxed, public hosts only in production. */
export function upstreamFetch(ctx: EnvContext): typeof fetch {
  const guarded = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString())
    if (ctx.type === 'production') await assertPublicHost(url.hostname)
    return fetch(input, {
      ...init,
      redirect: 'manual',
      signal: init?.signal ?? AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    })
  }
  return guarded as typeof fetch
}

export const httpOptions = (ctx: EnvContext) => ({
  ...(ctx.type === 'production' ? {} : { [oauth.allowInsecureRequests]: true }),
  [oauth.customFetch]: upstreamFetch(ctx),
})

function authFor(method: TokenAuthMethod, secret: string | null): oauth.ClientAuth {
  if (method === 'none' || secret === null) return oauth.None()
  return method === 'client_secret_basic' ? oauth.ClientSecretBasic(secret) : oauth.ClientSecretPost(secret)
}

export function providerConfig(ctx: EnvContext, row: OauthProviderRow): ProviderConfig {
  const preset = row.preset ? presetOf(row.preset) : undefined
  const protocol = preset?.protocol ?? (row.providerKind === 'custom_oidc' ? 'oidc' : 'oauth2')
  // A preset's endpoints are its own (the row keeps none); a custom provider's are the row's.
  const opts = row.presetOptions ?? {}
  const p = preset ? { ...preset, ...preset.endpointsFor?.(opts) } : undefined
  const ends =
    p && row.providerKind === 'preset'
      ? {
          issuer: p.issuer ?? new URL(p.authorizationUrl).origin,
          authorization_endpoint: p.authorizationUrl,
          token_endpoint: p.tokenUrl,
          userinfo_endpoint: p.userinfoUrl,
          jwks_uri: p.jwksUrl,
          revocation_endpoint: p.revocationUrl,
        }
      : {
          issuer: row.issuer ?? new URL(row.authorizationUrl ?? row.tokenUrl ?? 'https://invalid').origin,
          authorization_endpoint: row.authorizationUrl ?? undefined,
          token_endpoint: row.tokenUrl ?? undefined,
          userinfo_endpoint: row.userinfoUrl ?? undefined,
          jwks_uri: row.jwksUrl ?? undefined,
          revocation_endpoint: row.revocationUrl ?? undefined,
        }
  const as: oauth.AuthorizationServer = ends
  const secret = row.clientSecret === null ? null : unseal(ctx.dataKey, row.clientSecret, secretAad(row.id))
  const method = row.tokenAuthMethod ?? preset?.tokenAuth ?? 'client_secret_basic'
  const baseMapping = preset?.mapping ?? (protocol === 'oidc' ? OIDC_DEFAULT_MAPPING : {})
  // Apple with a signing key: a fresh client-secret JWT for every token request.
  const jwtSpec = preset?.clientSecretJwt
  const key =
    jwtSpec && row.privateKey && opts.team_id && opts.key_id
      ? ecSigningKey(unseal(ctx.dataKey, row.privateKey, privateKeyAad(row.id)))
      : null
  const clientAuth = (): oauth.ClientAuth => {
    if (!key || !jwtSpec) return authFor(method, secret)
    const minted = mintClientSecretJwt({
      key,
      keyId: opts.key_id!,
      teamId: opts.team_id!,
      clientId: row.clientId,
      audience: jwtSpec.audience,
      nowSeconds: Math.floor(ctx.clock.now() / 1000),
    })
    return authFor(method === 'none' ? 'client_secret_post' : method, minted)
  }
  return {
    row,
    protocol,
    as,
    client: { client_id: row.clientId, token_endpoint_auth_method: method },
    clientAuth,
    scopes: row.scopes ?? preset?.scopes ?? (protocol === 'oidc' ? ['openid', 'email', 'profile'] : []),
    scopeSeparator: preset?.scopeSeparator ?? ' ',
    pkce: row.pkce ?? preset?.pkce ?? true,
    mapping: { ...baseMapping, ...row.attributeMapping },
    emails: preset?.emails,
    authParams: preset?.authParams ?? {},
    profileHeaders: preset?.profileHeaders ?? {},
    formPost: preset?.formPost ?? false,
    issuerFromClaims: preset?.issuerFromClaims
      ? (claims) => preset.issuerFromClaims!(claims, opts)
      : undefined,
    callbackUrl: callbackUrlOf(ctx, row.providerKey),
    options: httpOptions(ctx),
  }
}

/** The authorization request: where the browser goes. */
export function authorizationUrl(
  cfg: ProviderConfig,
  p: { state: string; nonce: string | null; codeChallenge: string | null },
): string {
  const url = new URL(cfg.as.authorization_endpoint!)
  url.searchParams.set('client_id', cfg.row.clientId)
  url.searchParams.set('redirect_uri', cfg.callbackUrl)
  url.searchParams.set('response_type', 'code')
  if (cfg.scopes.length) url.searchParams.set('scope', cfg.scopes.join(cfg.scopeSeparator))
  url.searchParams.set('state', p.state)
  if (p.nonce) url.searchParams.set('nonce', p.nonce)
  if (p.codeChallenge) {
    url.searchParams.set('code_challenge', p.codeChallenge)
    url.searchParams.set('code_challenge_method', 'S256')
  }
  for (const [k, v] of Object.entries(cfg.authParams)) url.searchParams.set(k, v)
  return url.toString()
}

/** What a provider told us about the person, normalised. */
export interface Profile {
  providerUserId: string
  email: string | null
  emailVerified: boolean
  firstName: string | null
  lastName: string | null
  username: string | null
  imageUrl: string | null
}

export interface ProviderTokens {
  accessToken: string
  refreshToken: string | null
  /** ms since the epoch; null when the provider gave no lifetime. */
  expiresAt: number | null
  scopes: string[]
}

/** A refusal by the provider or a broken answer: the callback reports it as `?error=<code>`. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Reads a dot path (`data.attributes.email`, `emails.0.value`) from a JSON value. */
export function readPath(value: unknown, path: string): unknown {
  let cur = value
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

const str = (v: unknown, max = 512): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  if (typeof v !== 'string') return null
  const s = v.trim()
  return s && s.length <= max ? s : null
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** `true`, or Apple's `"true"`; anything else is unverified. */
const truthy = (v: unknown) => v === true || v === 'true'

/**
 * Maps the merged profile onto our fields. An email that is not an email is dropped; an email
 * is verified only when the provider asserts it (a literal `true` mapping means the operator
 * trusts every email of this provider).
 */
export function normalizeProfile(mapping: AttributeMapping, merged: Record<string, unknown>): Profile {
  const at = (path: string | undefined) => (path ? readPath(merged, path) : undefined)
  const providerUserId = str(at(mapping.user_id), 256)
  if (!providerUserId)
    throw new UpstreamError('external_account_missing_id', 'The provider did not say who this is.')
  const rawEmail = str(at(mapping.email), 320)
  const email = rawEmail && EMAIL.test(rawEmail) ? rawEmail.toLowerCase() : null
  const verifiedRule = mapping.email_verified
  const emailVerified =
    email !== null &&
    (typeof verifiedRule === 'boolean'
      ? verifiedRule
      : verifiedRule === undefined
        ? false
        : // X: the confirmed email's presence is the assertion.
          truthy(at(verifiedRule)) || (verifiedRule === mapping.email && at(verifiedRule) === rawEmail))
  let firstName = str(at(mapping.first_name), 256)
  let lastName = str(at(mapping.last_name), 256)
  const name = str(at(mapping.name), 256)
  if (!firstName && !lastName && name) {
    const i = name.indexOf(' ')
    firstName = i === -1 ? name : name.slice(0, i)
    lastName = i === -1 ? null : name.slice(i + 1).trim() || null
  }
  const image = str(at(mapping.image_url), 2048)
  return {
    providerUserId,
    email,
    emailVerified,
    firstName,
    lastName,
    username: str(at(mapping.username), 256),
    imageUrl: image?.startsWith('https://') || image?.startsWith('http://') ? image : null,
  }
}

async function getJson(cfg: ProviderConfig, url: string, accessToken: string): Promise<unknown> {
  const res = await oauth.protectedResourceRequest(
    accessToken,
    'GET',
    new URL(url),
    new Headers({ accept: 'application/json', ...cfg.profileHeaders }),
    null,
    cfg.options,
  )
  if (!res.ok)
    throw new UpstreamError('external_profile_unavailable', `The provider's profile answered ${res.status}.`)
  try {
    return await res.json()
  } catch (cause) {
    throw new UpstreamError('external_profile_unavailable', "The provider's profile is not JSON.", { cause })
  }
}

/** The primary verified address of an emails list (GitHub /user/emails, Bitbucket). */
export function primaryEmail(
  source: EmailsSource,
  answer: unknown,
): { email: string; verified: boolean } | null {
  const list = source.list ? readPath(answer, source.list) : answer
  if (!Array.isArray(list)) return null
  const entries = list.filter((e) => typeof readPath(e, source.email) === 'string')
  const chosen =
    entries.find((e) => readPath(e, source.primary) === true && readPath(e, source.verified) === true) ??
    entries.find((e) => readPath(e, source.verified) === true) ??
    entries.find((e) => readPath(e, source.primary) === true)
  return chosen
    ? {
        email: readPath(chosen, source.email) as string,
        verified: readPath(chosen, source.verified) === true,
      }
    : null
}

function mapTokenError(err: unknown): never {
  if (err instanceof oauth.ResponseBodyError)
    throw new UpstreamError(
      'external_token_exchange_failed',
      `The provider refused the code: ${err.error}.`,
      {
        cause: err,
      },
    )
  if (err instanceof UpstreamError) throw err
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof oauth.OperationProcessingError) {
    if (err.code === oauth.JWT_CLAIM_COMPARISON || err.code === oauth.JWT_TIMESTAMP_CHECK)
      throw new UpstreamError(
        'external_id_token_invalid',
        `The provider's id_token was refused: ${message}`,
        {
          cause: err,
        },
      )
    throw new UpstreamError(
      'external_token_exchange_failed',
      `The provider's answer was refused: ${message}`,
      {
        cause: err,
      },
    )
  }
  if (err instanceof PrivateAddressError)
    throw new UpstreamError('external_provider_unreachable', err.message, { cause: err })
  throw new UpstreamError('external_provider_unreachable', `The provider could not be reached: ${message}`, {
    cause: err,
  })
}

/**
 * The callback's work: validates the authorization response against the expected state, trades
 * the code (with the PKCE verifier), checks the id_token (signature by the provider's JWKS,
 * issuer, audience, nonce, expiry), reads userinfo or the profile API, and normalises.
 */
export async function completeAuthorization(
  cfg: ProviderConfig,
  params: URLSearchParams,
  expected: { state: string; nonce: string | null; codeVerifier: string | null },
  now: number,
): Promise<{ profile: Profile; tokens: ProviderTokens }> {
  let callbackParams: URLSearchParams
  try {
    callbackParams = oauth.validateAuthResponse(cfg.as, cfg.client, params, expected.state)
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      const denied = err.error === 'access_denied'
      throw new UpstreamError(
        denied ? 'external_access_denied' : 'external_authorization_failed',
        denied ? 'The sign-in was cancelled at the provider.' : `The provider refused: ${err.error}.`,
        { cause: err },
      )
    }
    throw new UpstreamError('external_authorization_failed', 'The provider sent an invalid answer.', {
      cause: err,
    })
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      cfg.as,
      cfg.client,
      cfg.clientAuth(),
      callbackParams,
      cfg.callbackUrl,
      expected.codeVerifier ?? oauth.nopkce,
      cfg.options,
    )
    let as = cfg.as
    if (cfg.issuerFromClaims && cfg.protocol === 'oidc') {
      // Multi-tenant issuers: the tenant's issuer, from the token's unverified claims, is then checked.
      const peek = (await response.clone().json()) as { id_token?: string }
      const claims = peek.id_token ? decodeClaims(peek.id_token) : {}
      const issuer = cfg.issuerFromClaims(claims)
      if (!issuer) throw new UpstreamError('external_id_token_invalid', 'The id_token names no tenant.')
      as = { ...cfg.as, issuer }
    }
    const result = await oauth.processAuthorizationCodeResponse(as, cfg.client, response, {
      expectedNonce: expected.nonce ?? oauth.expectNoNonce,
      requireIdToken: cfg.protocol === 'oidc',
    })
    let claims: Record<string, unknown> = {}
    if (cfg.protocol === 'oidc') {
      try {
        await oauth.validateApplicationLevelSignature(as, response, cfg.options)
      } catch (cause) {
        throw new UpstreamError('external_id_token_invalid', "The id_token's signature does not verify.", {
          cause,
        })
      }
      claims = { ...(oauth.getValidatedIdTokenClaims(result) ?? {}) }
    }
    const merged: Record<string, unknown> = { ...claims, token: result }
    const user = params.get('user')
    if (cfg.formPost && user) {
      // Apple: the name comes once, in the form POST's `user` field.
      try {
        merged.user = JSON.parse(user)
      } catch {}
    }
    if (cfg.as.userinfo_endpoint) {
      const info = await getJson(cfg, cfg.as.userinfo_endpoint, result.access_token)
      if (info && typeof info === 'object' && !Array.isArray(info)) {
        // The id_token's subject is the identity: a userinfo for someone else is refused.
        const sub = (info as Record<string, unknown>).sub
        if (cfg.protocol === 'oidc' && sub !== undefined && sub !== claims.sub)
          throw new UpstreamError('external_profile_unavailable', 'The userinfo is for another subject.')
        Object.assign(merged, info, { token: result })
      }
    }
    const profile = normalizeProfile(cfg.mapping, merged)
    if (cfg.emails) {
      const found = primaryEmail(cfg.emails, await getJson(cfg, cfg.emails.url, result.access_token))
      if (found && EMAIL.test(found.email)) {
        profile.email = found.email.toLowerCase()
        profile.emailVerified = found.verified
      }
    }
    return { profile, tokens: tokensOf(result, cfg, now) }
  } catch (err) {
    mapTokenError(err)
  }
}

function tokensOf(result: oauth.TokenEndpointResponse, cfg: ProviderConfig, now: number): ProviderTokens {
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? null,
    expiresAt: typeof result.expires_in === 'number' ? now + result.expires_in * 1000 : null,
    scopes: typeof result.scope === 'string' ? result.scope.split(/[\s,]+/).filter(Boolean) : cfg.scopes,
  }
}

function decodeClaims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
  } catch {
    return {}
  }
}

/** A fresh access token from a refresh token. */
export async function refreshTokens(
  cfg: ProviderConfig,
  refreshToken: string,
  now: number,
): Promise<ProviderTokens> {
  try {
    const response = await oauth.refreshTokenGrantRequest(
      cfg.as,
      cfg.client,
      cfg.clientAuth(),
      refreshToken,
      cfg.options,
    )
    const result = await oauth.processRefreshTokenResponse(cfg.as, cfg.client, response)
    const tokens = tokensOf(result, cfg, now)
    // A provider that does not rotate refresh tokens keeps the old one valid.
    return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken }
  } catch (err) {
    mapTokenError(err)
  }
}

/** Best-effort revocation at the provider (unlink): false when it has no endpoint or refused. */
export async function revokeToken(cfg: ProviderConfig, token: string): Promise<boolean> {
  if (!cfg.as.revocation_endpoint) return false
  try {
    const res = await oauth.revocationRequest(cfg.as, cfg.client, cfg.clientAuth(), token, cfg.options)
    await oauth.processRevocationResponse(res)
    return true
  } catch {
    return false
  }
}

/** The discovery document of a custom OIDC provider (the issuer URL or its well-known URL). */
export async function discover(ctx: EnvContext, discoveryUrl: string): Promise<oauth.AuthorizationServer> {
  const url = new URL(discoveryUrl)
  const wellKnown = '/.well-known/openid-configuration'
  const issuer = url.pathname.endsWith(wellKnown)
    ? new URL(url.href.slice(0, url.href.length - wellKnown.length - url.search.length))
    : url
  const res = await oauth.discoveryRequest(issuer, { ...httpOptions(ctx), algorithm: 'oidc' })
  return oauth.processDiscoveryResponse(issuer, res)
}

export const presetError = (preset: string) =>
  new AppError(422, [
    {
      code: 'form_param_value_invalid',
      message: 'unknown preset',
      long_message: `There is no preset ${preset}.`,
      meta: { param_name: 'preset' },
    },
  ])
