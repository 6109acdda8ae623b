import { type Static, t } from 'elysia'

/** A user's account at a social provider (Clerk's ExternalAccount). */
export const ExternalAccountResource = t.Object({
  object: t.Literal('external_account'),
  id: t.String(),
  provider: t.String(),
  strategy: t.String(),
  provider_user_id: t.String(),
  email_address: t.String(),
  email_address_verified: t.Boolean(),
  first_name: t.Nullable(t.String()),
  last_name: t.Nullable(t.String()),
  username: t.Nullable(t.String()),
  image_url: t.Nullable(t.String()),
  approved_scopes: t.String(),
  verification: t.Object({ status: t.String(), strategy: t.String() }),
  last_authenticated_at: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type ExternalAccountResource = Static<typeof ExternalAccountResource>

export const DeletedExternalAccount = t.Object({
  object: t.Literal('external_account'),
  id: t.String(),
  deleted: t.Literal(true),
})

/** A provider access token handed to the customer's backend (BAPI). */
export const OauthAccessTokenResource = t.Object({
  object: t.Literal('oauth_access_token'),
  external_account_id: t.String(),
  provider: t.String(),
  provider_user_id: t.String(),
  token: t.String(),
  scopes: t.Array(t.String()),
  expires_at: t.Nullable(t.Integer()),
})
export type OauthAccessTokenResource = Static<typeof OauthAccessTokenResource>
