/**
 * The social providers people expect, as data: endpoints, default scopes, PKCE, how the client
 * authenticates at the token endpoint, and where the profile's fields are (dot paths into the
 * merged profile: id_token claims, then the userinfo / profile API answer, then the token
 * response under `token.`). Sources and per-provider quirks: shared/reference/social-providers.md
 * §2–3 (re-check a provider's own documentation when changing its row).
 *
 * Tests cannot reach the real hosts: `overridePresetForTests` points a preset's endpoints at a
 * loopback IdP for the duration of a test (process-local; nothing in the API can do this).
 */

export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

/** Dot paths (or, for email_verified, a fixed answer) into the merged profile. */
export interface AttributeMapping {
  user_id?: string
  email?: string
  /** A path, or a literal: `true` trusts every email, `false` none. */
  email_verified?: string | boolean
  first_name?: string
  last_name?: string
  name?: string
  username?: string
  image_url?: string
}

/**
 * Per-provider settings an operator gives beside the client id (stored on the provider row):
 * Microsoft's tenant mode, a self-hosted GitLab's base URL, Apple's signing key identifiers (the
 * `.p8` key itself is sealed apart, like a client secret).
 */
export interface PresetOptions {
  tenant?: string
  base_url?: string
  team_id?: string
  key_id?: string
}
export type PresetOption = keyof PresetOptions | 'private_key'

/** Microsoft's personal-accounts tenant (`consumers`). */
export const MICROSOFT_CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A Microsoft tenant mode: `common`, `organizations`, `consumers` or a tenant id (GUID). */
export const isMicrosoftTenant = (t: string) =>
  t === 'common' || t === 'organizations' || t === 'consumers' || GUID.test(t)

/**
 * The issuer a Microsoft id_token must carry under the tenant mode, from its (not yet verified)
 * `tid`; null refuses the token. `organizations` refuses personal accounts, `consumers` accepts
 * only them, a tenant id only itself. The id_token's `iss` is then checked against it.
 */
export function microsoftIssuer(tenant: string, claims: Record<string, unknown>): string | null {
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : null
  if (!tid || !GUID.test(tid)) return null
  const mode = tenant.toLowerCase()
  if (mode === 'organizations' && tid === MICROSOFT_CONSUMER_TENANT) return null
  if (mode === 'consumers' && tid !== MICROSOFT_CONSUMER_TENANT) return null
  if (GUID.test(mode) && tid !== mode) return null
  return `https://login.microsoftonline.com/${tid}/v2.0`
}

const microsoftEndpoints = (tenant: string) => {
  const base = `https://login.microsoftonline.com/${tenant}`
  return {
    issuer: `${base}/v2.0`,
    authorizationUrl: `${base}/oauth2/v2.0/authorize`,
    tokenUrl: `${base}/oauth2/v2.0/token`,
    jwksUrl: `${base}/discovery/v2.0/keys`,
  }
}

/** GitLab's endpoints under a base URL (gitlab.com or a self-hosted instance). */
export const gitlabEndpoints = (base: string) => {
  const b = base.replace(/\/+$/, '')
  return {
    issuer: b,
    authorizationUrl: `${b}/oauth/authorize`,
    tokenUrl: `${b}/oauth/token`,
    userinfoUrl: `${b}/oauth/userinfo`,
    jwksUrl: `${b}/oauth/discovery/keys`,
    revocationUrl: `${b}/oauth/revoke`,
  }
}

/** A second profile call listing the account's email addresses (GitHub, Bitbucket). */
export interface EmailsSource {
  url: string
  /** Path to the array in the answer ('' = the answer itself). */
  list: string
  email: string
  primary: string
  verified: string
}

export interface Preset {
  id: string
  name: string
  protocol: 'oidc' | 'oauth2'
  issuer?: string
  authorizationUrl: string
  tokenUrl: string
  userinfoUrl?: string
  jwksUrl?: string
  revocationUrl?: string
  scopes: string[]
  /** Scopes are joined with this (TikTok: ','). */
  scopeSeparator?: string
  pkce: boolean
  tokenAuth: TokenAuthMethod
  mapping: AttributeMapping
  emails?: EmailsSource
  /** Extra authorization request parameters. */
  authParams?: Record<string, string>
  /** Extra headers for profile calls (Notion-Version). */
  profileHeaders?: Record<string, string>
  /** Apple: the callback is a cross-site form POST. */
  formPost?: boolean
  /**
   * Multi-tenant issuers (Microsoft): the issuer an id_token must carry, from its unverified
   * claims; null refuses it.
   */
  issuerFromClaims?: (claims: Record<string, unknown>, options: PresetOptions) => string | null
  /** The row options this preset takes (anything else is refused). */
  options?: readonly PresetOption[]
  /** Endpoints that follow the row's options (Microsoft's tenant, GitLab's base URL). */
  endpointsFor?: (options: PresetOptions) => Partial<Preset>
  /**
   * Apple: with a signing key the client secret is an ES256 JWT we mint per token request
   * (iss = team id, sub = client id, aud = this audience), instead of a pasted secret.
   */
  clientSecretJwt?: { audience: string }
}

const OIDC_MAPPING: AttributeMapping = {
  user_id: 'sub',
  email: 'email',
  email_verified: 'email_verified',
  first_name: 'given_name',
  last_name: 'family_name',
  name: 'name',
  username: 'preferred_username',
  image_url: 'picture',
}

const PRESET_LIST: Preset[] = [
  {
    id: 'google',
    name: 'Google',
    protocol: 'oidc',
    issuer: 'https://accounts.google.com',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    jwksUrl: 'https://www.googleapis.com/oauth2/v3/certs',
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    scopes: ['openid', 'email', 'profile'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    mapping: OIDC_MAPPING,
    authParams: { access_type: 'offline', prompt: 'select_account' },
  },
  {
    id: 'github',
    name: 'GitHub',
    protocol: 'oauth2',
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    userinfoUrl: 'https://api.github.com/user',
    scopes: ['read:user', 'user:email'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    // `email` is the public one; the verified address comes from /user/emails.
    mapping: { user_id: 'id', name: 'name', username: 'login', image_url: 'avatar_url' },
    emails: {
      url: 'https://api.github.com/user/emails',
      list: '',
      email: 'email',
      primary: 'primary',
      verified: 'verified',
    },
  },
  {
    id: 'apple',
    name: 'Apple',
    protocol: 'oidc',
    issuer: 'https://appleid.apple.com',
    authorizationUrl: 'https://appleid.apple.com/auth/authorize',
    tokenUrl: 'https://appleid.apple.com/auth/token',
    jwksUrl: 'https://appleid.apple.com/auth/keys',
    revocationUrl: 'https://appleid.apple.com/auth/revoke',
    scopes: ['name', 'email'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    // The name arrives once, in the callback's `user` form field (user.name.firstName).
    mapping: {
      user_id: 'sub',
      email: 'email',
      email_verified: 'email_verified',
      first_name: 'user.name.firstName',
      last_name: 'user.name.lastName',
    },
    authParams: { response_mode: 'form_post' },
    formPost: true,
    options: ['team_id', 'key_id', 'private_key'],
    clientSecretJwt: { audience: 'https://appleid.apple.com' },
  },
  {
    id: 'microsoft',
    name: 'Microsoft',
    protocol: 'oidc',
    issuer: 'https://login.microsoftonline.com/common/v2.0',
    authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    userinfoUrl: 'https://graph.microsoft.com/oidc/userinfo',
    jwksUrl: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
    scopes: ['openid', 'email', 'profile', 'offline_access', 'User.Read'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    // Entra emails are admin-editable ("nOAuth"): verified only with xms_edov.
    mapping: { ...OIDC_MAPPING, user_id: 'oid', email_verified: 'xms_edov' },
    issuerFromClaims: (claims, o) => microsoftIssuer(o.tenant ?? 'common', claims),
    options: ['tenant'],
    endpointsFor: (o) => (o.tenant ? microsoftEndpoints(o.tenant) : {}),
  },
  {
    id: 'gitlab',
    name: 'GitLab',
    protocol: 'oidc',
    issuer: 'https://gitlab.com',
    authorizationUrl: 'https://gitlab.com/oauth/authorize',
    tokenUrl: 'https://gitlab.com/oauth/token',
    userinfoUrl: 'https://gitlab.com/oauth/userinfo',
    jwksUrl: 'https://gitlab.com/oauth/discovery/keys',
    revocationUrl: 'https://gitlab.com/oauth/revoke',
    scopes: ['openid', 'email', 'profile'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    mapping: { ...OIDC_MAPPING, username: 'nickname' },
    options: ['base_url'],
    endpointsFor: (o) => (o.base_url ? gitlabEndpoints(o.base_url) : {}),
  },
  {
    id: 'discord',
    name: 'Discord',
    protocol: 'oauth2',
    authorizationUrl: 'https://discord.com/oauth2/authorize',
    tokenUrl: 'https://discord.com/api/oauth2/token',
    userinfoUrl: 'https://discord.com/api/users/@me',
    revocationUrl: 'https://discord.com/api/oauth2/token/revoke',
    scopes: ['identify', 'email'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    mapping: {
      user_id: 'id',
      email: 'email',
      email_verified: 'verified',
      name: 'global_name',
      username: 'username',
    },
  },
  {
    id: 'facebook',
    name: 'Facebook',
    protocol: 'oauth2',
    authorizationUrl: 'https://www.facebook.com/v21.0/dialog/oauth',
    tokenUrl: 'https://graph.facebook.com/v21.0/oauth/access_token',
    userinfoUrl: 'https://graph.facebook.com/v21.0/me?fields=id,name,first_name,last_name,email,picture',
    scopes: ['email', 'public_profile'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    // Facebook does not say whether the email was verified.
    mapping: {
      user_id: 'id',
      email: 'email',
      email_verified: false,
      first_name: 'first_name',
      last_name: 'last_name',
      name: 'name',
      image_url: 'picture.data.url',
    },
  },
  {
    id: 'linkedin',
    name: 'LinkedIn',
    protocol: 'oidc',
    issuer: 'https://www.linkedin.com/oauth',
    authorizationUrl: 'https://www.linkedin.com/oauth/v2/authorization',
    tokenUrl: 'https://www.linkedin.com/oauth/v2/accessToken',
    userinfoUrl: 'https://api.linkedin.com/v2/userinfo',
    jwksUrl: 'https://www.linkedin.com/oauth/openid/jwks',
    scopes: ['openid', 'profile', 'email'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    mapping: OIDC_MAPPING,
  },
  {
    id: 'slack',
    name: 'Slack',
    protocol: 'oidc',
    issuer: 'https://slack.com',
    authorizationUrl: 'https://slack.com/openid/connect/authorize',
    tokenUrl: 'https://slack.com/api/openid.connect.token',
    userinfoUrl: 'https://slack.com/api/openid.connect.userInfo',
    jwksUrl: 'https://slack.com/openid/connect/keys',
    scopes: ['openid', 'profile', 'email'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    mapping: OIDC_MAPPING,
  },
  {
    id: 'x',
    name: 'X / Twitter',
    protocol: 'oauth2',
    authorizationUrl: 'https://x.com/i/oauth2/authorize',
    tokenUrl: 'https://api.x.com/2/oauth2/token',
    userinfoUrl: 'https://api.x.com/2/users/me?user.fields=confirmed_email,profile_image_url,username,name',
    revocationUrl: 'https://api.x.com/2/oauth2/revoke',
    scopes: ['users.read', 'tweet.read', 'offline.access', 'users.email'],
    pkce: true,
    tokenAuth: 'client_secret_basic',
    // confirmed_email is present only when X confirmed it.
    mapping: {
      user_id: 'data.id',
      email: 'data.confirmed_email',
      email_verified: 'data.confirmed_email',
      name: 'data.name',
      username: 'data.username',
      image_url: 'data.profile_image_url',
    },
  },
  {
    id: 'bitbucket',
    name: 'Bitbucket',
    protocol: 'oauth2',
    authorizationUrl: 'https://bitbucket.org/site/oauth2/authorize',
    tokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
    userinfoUrl: 'https://api.bitbucket.org/2.0/user',
    scopes: ['account', 'email'],
    pkce: false,
    tokenAuth: 'client_secret_basic',
    mapping: {
      user_id: 'uuid',
      name: 'display_name',
      username: 'username',
      image_url: 'links.avatar.href',
    },
    emails: {
      url: 'https://api.bitbucket.org/2.0/user/emails',
      list: 'values',
      email: 'email',
      primary: 'is_primary',
      verified: 'is_confirmed',
    },
  },
  {
    id: 'twitch',
    name: 'Twitch',
    protocol: 'oidc',
    issuer: 'https://id.twitch.tv/oauth2',
    authorizationUrl: 'https://id.twitch.tv/oauth2/authorize',
    tokenUrl: 'https://id.twitch.tv/oauth2/token',
    userinfoUrl: 'https://id.twitch.tv/oauth2/userinfo',
    jwksUrl: 'https://id.twitch.tv/oauth2/keys',
    revocationUrl: 'https://id.twitch.tv/oauth2/revoke',
    scopes: ['openid', 'user:read:email'],
    pkce: false,
    tokenAuth: 'client_secret_post',
    mapping: OIDC_MAPPING,
    // Email and its verification come only when asked for through `claims`.
    authParams: {
      claims: JSON.stringify({
        id_token: { email: null, email_verified: null, preferred_username: null, picture: null },
        userinfo: { email: null, email_verified: null, preferred_username: null, picture: null },
      }),
    },
  },
  {
    id: 'spotify',
    name: 'Spotify',
    protocol: 'oauth2',
    authorizationUrl: 'https://accounts.spotify.com/authorize',
    tokenUrl: 'https://accounts.spotify.com/api/token',
    userinfoUrl: 'https://api.spotify.com/v1/me',
    scopes: ['user-read-email'],
    pkce: false,
    tokenAuth: 'client_secret_basic',
    mapping: {
      user_id: 'id',
      email: 'email',
      email_verified: false,
      name: 'display_name',
      image_url: 'images.0.url',
    },
  },
  {
    id: 'notion',
    name: 'Notion',
    protocol: 'oauth2',
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    scopes: [],
    pkce: false,
    tokenAuth: 'client_secret_basic',
    authParams: { owner: 'user' },
    // The user comes with the token response.
    mapping: {
      user_id: 'token.owner.user.id',
      email: 'token.owner.user.person.email',
      email_verified: false,
      name: 'token.owner.user.name',
      image_url: 'token.owner.user.avatar_url',
    },
  },
  {
    id: 'atlassian',
    name: 'Atlassian',
    protocol: 'oauth2',
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    userinfoUrl: 'https://api.atlassian.com/me',
    scopes: ['read:me'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    authParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    mapping: {
      user_id: 'account_id',
      email: 'email',
      email_verified: false,
      name: 'name',
      username: 'nickname',
      image_url: 'picture',
    },
  },
  {
    id: 'huggingface',
    name: 'Hugging Face',
    protocol: 'oidc',
    issuer: 'https://huggingface.co',
    authorizationUrl: 'https://huggingface.co/oauth/authorize',
    tokenUrl: 'https://huggingface.co/oauth/token',
    userinfoUrl: 'https://huggingface.co/oauth/userinfo',
    jwksUrl: 'https://huggingface.co/oauth/jwks',
    scopes: ['openid', 'profile', 'email'],
    pkce: true,
    tokenAuth: 'client_secret_post',
    mapping: OIDC_MAPPING,
  },
]

export const PRESET_IDS = PRESET_LIST.map((p) => p.id)

const overrides = new Map<string, Partial<Preset>>()

/** A preset by id (with a test's override applied), or undefined. */
export function presetOf(id: string): Preset | undefined {
  const base = PRESET_LIST.find((p) => p.id === id)
  if (!base) return undefined
  const o = overrides.get(id)
  return o ? { ...base, ...o } : base
}

/**
 * Tests only: points a preset at a loopback IdP (issuer, endpoints). Process-local, never
 * reachable from the API; returns the function that restores the real endpoints.
 */
export function overridePresetForTests(id: string, override: Partial<Preset>): () => void {
  overrides.set(id, override)
  return () => overrides.delete(id)
}
