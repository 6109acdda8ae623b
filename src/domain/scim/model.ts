import { t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'

const tokenFields = {
  object: t.Literal('scim_token'),
  id: t.String(),
  organization_id: t.String(),
  name: t.Nullable(t.String()),
  token_prefix: t.String(),
  status: t.Union([t.Literal('active'), t.Literal('revoked')]),
  created_by: t.Nullable(t.String()),
  last_used_at: t.Nullable(t.Integer()),
  revoked_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
}
export const ScimTokenResource = t.Object(tokenFields)
/** The answer to issuing: the plaintext token, this one time. */
export const IssuedScimToken = t.Object({ ...tokenFields, token: t.String() })

export const ScimEndpointResource = t.Object({
  object: t.Literal('scim_endpoint'),
  organization_id: t.String(),
  endpoint_url: t.String(),
})

export const ScimMappingResource = t.Object({
  object: t.Literal('scim_attribute_mapping'),
  organization_id: t.String(),
  mapping: t.Record(t.String(), t.String()),
  is_default: t.Boolean(),
  updated_at: t.Nullable(t.Integer()),
})

export const IssueScimTokenBody = t.Object(
  { name: t.Optional(t.Nullable(t.String({ maxLength: 128 }))) },
  { additionalProperties: false },
)

export const ReplaceScimMappingBody = t.Object(
  {
    mapping: t.Record(
      t.String({ minLength: 1, maxLength: 256 }),
      t.String({ minLength: 1, maxLength: 128 }),
      {
        maxProperties: 100,
      },
    ),
  },
  { additionalProperties: false },
)

export const ScimTokensQuery = t.Object(PaginationQuery, { additionalProperties: false })
