import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { users } from '../users/schema'

/**
 * A third-party app that signs its users in with this environment (we are its OAuth 2.0 /
 * OpenID Connect authorization server). `client_secret` is kept as SHA-256 only.
 */
export const oauthApplications = sqliteTable(
  'oauth_applications',
  {
    id: text('id').primaryKey(),
    /** Public, random, immutable. */
    clientId: text('client_id').notNull().unique(),
    name: text('name').notNull(),
    /** SHA-256 hex of the secret; null for public clients. */
    secretHash: text('secret_hash'),
    /** Public clients authenticate with `none` and must use PKCE; immutable. */
    isPublic: integer('is_public', { mode: 'boolean' }).notNull(),
    pkceRequired: integer('pkce_required', { mode: 'boolean' }).notNull(),
    redirectUris: text('redirect_uris', { mode: 'json' }).$type<string[]>().notNull(),
    /** Space-separated allow-list of scopes the app may ask for. */
    scopes: text('scopes').notNull(),
    consentScreenEnabled: integer('consent_screen_enabled', { mode: 'boolean' }).notNull(),
    homepageUrl: text('homepage_url'),
    logoUrl: text('logo_url'),
    /** Registered by the client itself (RFC 7591): consent is always shown. */
    dynamicallyRegistered: integer('dynamically_registered', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('oauth_applications_created').on(t.createdAt, t.id)],
)

/** A user's consent to an app: the union of the scopes granted. Tokens hang off it. */
export const oauthGrants = sqliteTable(
  'oauth_grants',
  {
    id: text('id').primaryKey(),
    applicationId: text('application_id')
      .notNull()
      .references(() => oauthApplications.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    scopes: text('scopes').notNull(),
    lastUsedAt: integer('last_used_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('oauth_grants_app_user').on(t.applicationId, t.userId),
    index('oauth_grants_app_created').on(t.applicationId, t.createdAt, t.id),
    index('oauth_grants_user_created').on(t.userId, t.createdAt, t.id),
  ],
)

/** An authorization code: single use, ten minutes, bound to everything the request said. */
export const oauthCodes = sqliteTable(
  'oauth_codes',
  {
    id: text('id').primaryKey(),
    codeHash: text('code_hash').notNull().unique(),
    grantId: text('grant_id')
      .notNull()
      .references(() => oauthGrants.id, { onDelete: 'cascade' }),
    applicationId: text('application_id').notNull(),
    userId: text('user_id').notNull(),
    sessionId: text('session_id').notNull(),
    /** The redirect_uri the authorization request sent (null when it relied on the only one). */
    redirectUri: text('redirect_uri'),
    scopes: text('scopes').notNull(),
    nonce: text('nonce'),
    codeChallenge: text('code_challenge'),
    /** Seconds, the session's last authentication. */
    authTime: integer('auth_time').notNull(),
    /** A refresh token comes with the tokens (offline_access granted with consent). */
    offline: integer('offline', { mode: 'boolean' }).notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('oauth_codes_expires').on(t.expiresAt)],
)

/**
 * Tokens issued to an app: refresh tokens (looked up by the SHA-256 of the token) and the
 * access tokens' `jti`s (so a revoked grant turns them inactive at once). A refresh token
 * family is the grant; `parent_id` and `used_at` drive rotation and reuse detection.
 */
export const oauthTokens = sqliteTable(
  'oauth_tokens',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['access', 'refresh'] }).notNull(),
    /** refresh: SHA-256 hex of the token; access: the JWT's jti. */
    lookup: text('lookup').notNull().unique(),
    grantId: text('grant_id')
      .notNull()
      .references(() => oauthGrants.id, { onDelete: 'cascade' }),
    applicationId: text('application_id').notNull(),
    userId: text('user_id').notNull(),
    sessionId: text('session_id').notNull(),
    /** The code that started this chain: a replayed code revokes what it issued. */
    codeId: text('code_id'),
    parentId: text('parent_id'),
    scopes: text('scopes').notNull(),
    authTime: integer('auth_time').notNull(),
    /**
     * A refresh token minted by a refresh also records the access token issued with it (its
     * jti), with the same scopes: one row per refresh instead of two.
     */
    accessJti: text('access_jti').unique(),
    usedAt: integer('used_at'),
    expiresAt: integer('expires_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('oauth_tokens_grant').on(t.grantId),
    index('oauth_tokens_code').on(t.codeId),
    index('oauth_tokens_expires').on(t.expiresAt),
    index('oauth_tokens_spent').on(t.usedAt),
  ],
)

export type OauthApplicationRow = typeof oauthApplications.$inferSelect
export type OauthGrantRow = typeof oauthGrants.$inferSelect
export type OauthCodeRow = typeof oauthCodes.$inferSelect
export type OauthTokenRow = typeof oauthTokens.$inferSelect
