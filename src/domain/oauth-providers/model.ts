import { type Static, t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'
import { PRESET_IDS } from './presets'

const Url = t.String({ minLength: 8, maxLength: 2048 })
const Scope = t.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' })
const Scopes = t.Array(Scope, { maxItems: 50 })
const Path = t.String({ minLength: 1, maxLength: 256 })
const AuthMethod = t.Union([
  t.Literal('client_secret_basic'),
  t.Literal('client_secret_post'),
  t.Literal('none'),
])

export const AttributeMappingModel = t.Object(
  {
    user_id: t.Optional(Path),
    email: t.Optional(Path),
    email_verified: t.Optional(t.Union([Path, t.Boolean()])),
    first_name: t.Optional(Path),
    last_name: t.Optional(Path),
    name: t.Optional(Path),
    username: t.Optional(Path),
    image_url: t.Optional(Path),
  },
  { additionalProperties: false },
)

export const OauthProviderResource = t.Object({
  object: t.Literal('oauth_provider'),
  id: t.String(),
  provider_key: t.String(),
  provider_kind: t.String(),
  preset: t.Nullable(t.String()),
  /** `oauth_<provider_key>`: the sign-in and sign-up strategy. */
  strategy: t.String(),
  name: t.String(),
  enabled: t.Boolean(),
  authenticatable: t.Boolean(),
  client_id: t.String(),
  /** The secret itself is never returned. */
  has_client_secret: t.Boolean(),
  scopes: t.Array(t.String()),
  discovery_url: t.Nullable(t.String()),
  issuer: t.Nullable(t.String()),
  authorization_url: t.Nullable(t.String()),
  token_url: t.Nullable(t.String()),
  userinfo_url: t.Nullable(t.String()),
  jwks_url: t.Nullable(t.String()),
  pkce: t.Boolean(),
  token_endpoint_auth_method: t.String(),
  attribute_mapping: t.Record(t.String(), t.Union([t.String(), t.Boolean()])),
  /** Microsoft: common, organizations, consumers or a tenant id. */
  tenant: t.Nullable(t.String()),
  /** GitLab: a self-hosted instance's base URL. */
  base_url: t.Nullable(t.String()),
  /** Apple: the signing key's team and key ids; the `.p8` key itself is never returned. */
  team_id: t.Nullable(t.String()),
  key_id: t.Nullable(t.String()),
  has_private_key: t.Boolean(),
  /** The redirect URI to register at the provider. */
  callback_url: t.String(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type OauthProviderResource = Static<typeof OauthProviderResource>

export const DeletedOauthProvider = t.Object({
  object: t.Literal('oauth_provider'),
  id: t.String(),
  deleted: t.Literal(true),
})

const Key = t.String({ pattern: '^[a-z][a-z0-9_]{1,47}$' })
const AppleId = t.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9]+$' })
/** Preset settings (which apply depends on the preset); the private key is write-only. */
const presetSettings = (nullable: boolean) => {
  const f = <T extends Parameters<typeof t.Optional>[0]>(x: T) =>
    nullable ? t.Optional(t.Nullable(x)) : t.Optional(x)
  return {
    tenant: f(t.String({ minLength: 1, maxLength: 64 })),
    base_url: f(Url),
    team_id: f(AppleId),
    key_id: f(AppleId),
    private_key: f(t.String({ minLength: 1, maxLength: 8192 })),
  }
}

export const CreateOauthProviderBody = t.Object(
  {
    provider_kind: t.Union([t.Literal('preset'), t.Literal('custom_oidc'), t.Literal('custom_oauth2')]),
    /** preset: which one. */
    preset: t.Optional(t.Union(PRESET_IDS.map((id) => t.Literal(id)))),
    /** Default for a preset: its id. Custom providers: required, starting with `custom_`. */
    provider_key: t.Optional(Key),
    name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    enabled: t.Optional(t.Boolean()),
    authenticatable: t.Optional(t.Boolean()),
    client_id: t.String({ minLength: 1, maxLength: 512 }),
    /** Write-only. */
    client_secret: t.Optional(t.String({ minLength: 1, maxLength: 4096 })),
    scopes: t.Optional(Scopes),
    /** custom_oidc: the issuer's discovery document (or its issuer URL). */
    discovery_url: t.Optional(Url),
    /** custom_oauth2: the endpoints. */
    authorization_url: t.Optional(Url),
    token_url: t.Optional(Url),
    userinfo_url: t.Optional(Url),
    revocation_url: t.Optional(Url),
    pkce: t.Optional(t.Boolean()),
    token_endpoint_auth_method: t.Optional(AuthMethod),
    attribute_mapping: t.Optional(AttributeMappingModel),
    ...presetSettings(false),
  },
  { additionalProperties: false },
)
export type CreateOauthProviderBody = Static<typeof CreateOauthProviderBody>

export const UpdateOauthProviderBody = t.Object(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    enabled: t.Optional(t.Boolean()),
    authenticatable: t.Optional(t.Boolean()),
    client_id: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
    client_secret: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 4096 }))),
    scopes: t.Optional(t.Nullable(Scopes)),
    discovery_url: t.Optional(Url),
    authorization_url: t.Optional(Url),
    token_url: t.Optional(Url),
    userinfo_url: t.Optional(t.Nullable(Url)),
    revocation_url: t.Optional(t.Nullable(Url)),
    pkce: t.Optional(t.Boolean()),
    token_endpoint_auth_method: t.Optional(AuthMethod),
    attribute_mapping: t.Optional(AttributeMappingModel),
    ...presetSettings(true),
    /** Immutable: present only to be refused with a clear message. */
    provider_kind: t.Optional(t.String({ maxLength: 64 })),
    provider_key: t.Optional(t.String({ maxLength: 64 })),
    preset: t.Optional(t.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
)
export type UpdateOauthProviderBody = Static<typeof UpdateOauthProviderBody>

export const ListOauthProvidersQuery = t.Object(PaginationQuery, { additionalProperties: false })
export type ListOauthProvidersQuery = Static<typeof ListOauthProvidersQuery>

export const OauthProviderIdParams = t.Object({ id: t.String({ maxLength: 64 }) })

const CheckStatus = t.Union([t.Literal('pass'), t.Literal('warn'), t.Literal('fail'), t.Literal('skipped')])
export const ProbeCheck = t.Object({
  name: t.String(),
  status: CheckStatus,
  message: t.String(),
})
export type ProbeCheck = Static<typeof ProbeCheck>

export const OauthProviderTestResult = t.Object({
  object: t.Literal('oauth_provider_test_result'),
  oauth_provider_id: t.String(),
  ok: t.Boolean(),
  checked_at: t.Integer(),
  callback_url: t.String(),
  checks: t.Array(ProbeCheck),
})
export type OauthProviderTestResult = Static<typeof OauthProviderTestResult>
