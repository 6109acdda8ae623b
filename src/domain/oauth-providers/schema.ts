import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import type { AttributeMapping, PresetOptions, TokenAuthMethod } from './presets'

export const PROVIDER_KINDS = ['preset', 'custom_oidc', 'custom_oauth2'] as const
export type ProviderKind = (typeof PROVIDER_KINDS)[number]

/**
 * A social connection of the env: a preset (endpoints built in), a custom OIDC provider (its
 * endpoints from the issuer's discovery document, stored at create) or a custom OAuth 2.0
 * provider (explicit endpoints and a mapping of the userinfo JSON). Soft-deleted: the key stays
 * taken while the row exists, so old external accounts keep pointing at what they came from.
 */
export const oauthProviders = sqliteTable(
  'oauth_providers',
  {
    id: text('id').primaryKey(),
    /** `oauth_<provider_key>` is the strategy; `/v1/oauth-callback/<provider_key>` the callback. */
    providerKey: text('provider_key').notNull(),
    providerKind: text('provider_kind', { enum: PROVIDER_KINDS }).notNull(),
    /** The preset's id (google, github, …); null for custom providers. */
    preset: text('preset'),
    name: text('name').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull(),
    /** false: only for connecting an account from the profile, not for signing in or up. */
    authenticatable: integer('authenticatable', { mode: 'boolean' }).notNull(),
    clientId: text('client_id').notNull(),
    /** Sealed with the env data key; never returned. */
    clientSecret: text('client_secret'),
    /** Apple's `.p8` signing key (PEM), sealed with the env data key; never returned. */
    privateKey: text('private_key'),
    /** Preset settings beside the client id (tenant, base URL, Apple's team and key ids). */
    presetOptions: text('preset_options', { mode: 'json' }).$type<PresetOptions>(),
    /** null: the preset's default scopes. */
    scopes: text('scopes', { mode: 'json' }).$type<string[]>(),
    discoveryUrl: text('discovery_url'),
    issuer: text('issuer'),
    authorizationUrl: text('authorization_url'),
    tokenUrl: text('token_url'),
    userinfoUrl: text('userinfo_url'),
    jwksUrl: text('jwks_url'),
    revocationUrl: text('revocation_url'),
    pkce: integer('pkce', { mode: 'boolean' }),
    tokenAuthMethod: text('token_auth_method').$type<TokenAuthMethod>(),
    /** Overrides of the preset's (or the OIDC default) mapping; custom_oauth2: the whole mapping. */
    attributeMapping: text('attribute_mapping', { mode: 'json' }).$type<AttributeMapping>().notNull(),
    deletedAt: integer('deleted_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('oauth_providers_key').on(t.providerKey),
    index('oauth_providers_created').on(t.createdAt, t.id),
  ],
)

export type OauthProviderRow = typeof oauthProviders.$inferSelect

/**
 * A browser on its way to a provider: what the callback needs to finish, found by the challenge
 * the redirect factor issued (whose link-token hash is the opaque `state`). Single use.
 */
export const oauthFlows = sqliteTable(
  'oauth_flows',
  {
    challengeId: text('challenge_id').primaryKey(),
    providerId: text('provider_id')
      .notNull()
      .references(() => oauthProviders.id),
    /** The PKCE verifier, sealed (null: the provider takes no PKCE). */
    codeVerifier: text('code_verifier'),
    nonce: text('nonce'),
    /** `connect`: a signed-in user adds this provider to their account. */
    intent: text('intent', { enum: ['sign_in', 'connect'] }).notNull(),
    userId: text('user_id'),
    expireAt: integer('expire_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('oauth_flows_expiry').on(t.expireAt)],
)

export type OauthFlowRow = typeof oauthFlows.$inferSelect
