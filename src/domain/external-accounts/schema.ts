import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { oauthProviders } from '../oauth-providers/schema'
import { users } from '../users/schema'

/**
 * A user's identity at a social provider. The identity is (provider, provider_user_id): the
 * provider's immutable id (OIDC `sub`, GitHub's numeric id), never an email or a username.
 * Provider tokens are sealed with the env data key.
 */
export const externalAccounts = sqliteTable(
  'external_accounts',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    oauthProviderId: text('oauth_provider_id')
      .notNull()
      .references(() => oauthProviders.id),
    /** The provider's key (`google`): the strategy is `oauth_<provider>`. */
    provider: text('provider').notNull(),
    providerUserId: text('provider_user_id').notNull(),
    emailAddress: text('email_address'),
    emailAddressVerified: integer('email_address_verified', { mode: 'boolean' }).notNull(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    username: text('username'),
    imageUrl: text('image_url'),
    approvedScopes: text('approved_scopes').notNull(),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    /** ms; null: the token does not expire (or the provider did not say). */
    accessTokenExpiresAt: integer('access_token_expires_at'),
    lastAuthenticatedAt: integer('last_authenticated_at').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('external_accounts_identity').on(t.oauthProviderId, t.providerUserId),
    index('external_accounts_user').on(t.userId, t.createdAt, t.id),
  ],
)

export type ExternalAccountRow = typeof externalAccounts.$inferSelect
