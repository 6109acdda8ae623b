import { type Static, t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'
import { idPattern } from '../../lib/ids'

const Name = t.String({ minLength: 1, maxLength: 256 })
const Url = t.String({ minLength: 1, maxLength: 2048 })
const RedirectUris = t.Array(Url, { maxItems: 20 })
/** Space-separated scope words (RFC 6749 §3.3). */
const Scopes = t.String({ maxLength: 1024 })

export const OauthApplicationResource = t.Object({
  object: t.Literal('oauth_application'),
  id: t.String(),
  instance_id: t.String(),
  name: t.String(),
  client_id: t.String(),
  is_public: t.Boolean(),
  pkce_required: t.Boolean(),
  redirect_uris: t.Array(t.String()),
  scopes: t.String(),
  consent_screen_enabled: t.Boolean(),
  homepage_url: t.Nullable(t.String()),
  logo_url: t.Nullable(t.String()),
  dynamically_registered: t.Boolean(),
  authorize_url: t.String(),
  token_fetch_url: t.String(),
  user_info_url: t.String(),
  discovery_url: t.String(),
  token_introspection_url: t.String(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type OauthApplicationResource = Static<typeof OauthApplicationResource>

/** Create and rotate-secret: the only answers that carry the secret (null for public apps). */
export const OauthApplicationWithSecret = t.Composite([
  OauthApplicationResource,
  t.Object({ client_secret: t.Nullable(t.String()) }),
])
export type OauthApplicationWithSecret = Static<typeof OauthApplicationWithSecret>

export const DeletedOauthApplication = t.Object({
  object: t.Literal('oauth_application'),
  id: t.String(),
  deleted: t.Literal(true),
})

export const CreateOauthApplicationBody = t.Object(
  {
    name: Name,
    redirect_uris: t.Optional(RedirectUris),
    /** Legacy single-URI form; joins redirect_uris. */
    callback_url: t.Optional(Url),
    scopes: t.Optional(Scopes),
    is_public: t.Optional(t.Boolean()),
    public: t.Optional(t.Boolean()),
    pkce_required: t.Optional(t.Boolean()),
    consent_screen_enabled: t.Optional(t.Boolean()),
    homepage_url: t.Optional(t.Nullable(Url)),
    logo_url: t.Optional(t.Nullable(Url)),
  },
  { additionalProperties: false },
)
export type CreateOauthApplicationBody = Static<typeof CreateOauthApplicationBody>

export const UpdateOauthApplicationBody = t.Object(
  {
    name: t.Optional(Name),
    redirect_uris: t.Optional(RedirectUris),
    callback_url: t.Optional(Url),
    scopes: t.Optional(Scopes),
    pkce_required: t.Optional(t.Boolean()),
    consent_screen_enabled: t.Optional(t.Boolean()),
    homepage_url: t.Optional(t.Nullable(Url)),
    logo_url: t.Optional(t.Nullable(Url)),
    /** Immutable: accepted only when it says what already is (a 422 otherwise). */
    is_public: t.Optional(t.Boolean()),
    client_id: t.Optional(t.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
)
export type UpdateOauthApplicationBody = Static<typeof UpdateOauthApplicationBody>

export const ListOauthApplicationsQuery = t.Object(PaginationQuery, { additionalProperties: false })
export type ListOauthApplicationsQuery = Static<typeof ListOauthApplicationsQuery>

export const AppIdParams = t.Object({ id: t.String({ pattern: idPattern('oauthApplication') }) })
export const GrantParams = t.Object({
  id: t.String({ pattern: idPattern('oauthApplication') }),
  grant_id: t.String({ pattern: idPattern('oauthGrant') }),
})
export const MyGrantParams = t.Object({ id: t.String({ pattern: idPattern('oauthGrant') }) })

export const OauthGrantResource = t.Object({
  object: t.Literal('oauth_authorization_grant'),
  id: t.String(),
  oauth_application_id: t.String(),
  /** The app's name and logo, as a user's list of authorised apps shows them. */
  oauth_application_name: t.String(),
  oauth_application_logo_url: t.Nullable(t.String()),
  client_id: t.String(),
  user_id: t.String(),
  scopes: t.Array(t.String()),
  last_used_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type OauthGrantResource = Static<typeof OauthGrantResource>

export const DeletedOauthGrant = t.Object({
  object: t.Literal('oauth_authorization_grant'),
  id: t.String(),
  deleted: t.Literal(true),
})

export const ListGrantsQuery = t.Object(PaginationQuery, { additionalProperties: false })
export type ListGrantsQuery = Static<typeof ListGrantsQuery>
