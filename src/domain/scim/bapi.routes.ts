import { t } from 'elysia'
import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import * as admin from './admin'
import {
  IssuedScimToken,
  IssueScimTokenBody,
  ReplaceScimMappingBody,
  ScimEndpointResource,
  ScimMappingResource,
  ScimTokenResource,
  ScimTokensQuery,
} from './model'

const Org = t.Object({ id: t.String({ maxLength: 96 }) })
const Token = t.Object({ id: t.String({ maxLength: 96 }), token_id: t.String({ maxLength: 64 }) })
const tags = ['Organizations: SCIM provisioning']

/** The operator's mirror of the org-scoped SCIM admin (tokens, endpoint, attribute mapping). */
export const scimBapi = capabilityRoutes('bapi:scim')
  .get('/v1/organizations/:id/scim/endpoint', ({ env, params }) => admin.scimEndpoint(env, params.id), {
    params: Org,
    response: { 200: ScimEndpointResource },
    detail: { summary: "The SCIM base URL for the organization's IdP", tags },
  })
  .get(
    '/v1/organizations/:id/scim/tokens',
    ({ env, params, query }) => admin.listScimTokens(env, params.id, query),
    {
      params: Org,
      query: ScimTokensQuery,
      response: { 200: Paginated(ScimTokenResource) },
      detail: { summary: 'List SCIM tokens, active and revoked (no plaintext)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/scim/tokens',
    ({ env, params, body }) => admin.issueScimToken(env, params.id, body ?? {}),
    {
      params: Org,
      body: t.Optional(IssueScimTokenBody),
      response: { 200: IssuedScimToken },
      detail: { summary: 'Issue a SCIM token (the plaintext is in this answer only)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/scim/tokens/:token_id/revoke',
    ({ env, params }) => admin.revokeScimToken(env, params.id, params.token_id),
    {
      params: Token,
      response: { 200: ScimTokenResource },
      detail: { summary: 'Revoke a SCIM token (its next request is a 401)', tags },
    },
  )
  .get(
    '/v1/organizations/:id/scim/attribute-mappings',
    ({ env, params }) => admin.getScimMapping(env, params.id),
    {
      params: Org,
      response: { 200: ScimMappingResource },
      detail: { summary: 'The attribute mapping (the defaults when none is set)', tags },
    },
  )
  .put(
    '/v1/organizations/:id/scim/attribute-mappings',
    ({ env, params, body }) => admin.replaceScimMapping(env, params.id, body.mapping),
    {
      params: Org,
      body: ReplaceScimMappingBody,
      response: { 200: ScimMappingResource },
      detail: { summary: 'Replace the attribute mapping ({"mapping": {}} reverts to the defaults)', tags },
    },
  )
