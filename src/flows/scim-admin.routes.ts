import { t } from 'elysia'
import {
  IssuedScimToken,
  IssueScimTokenBody,
  ReplaceScimMappingBody,
  ScimEndpointResource,
  ScimMappingResource,
  ScimTokenResource,
  ScimTokensQuery,
} from '../domain/scim/model'
import { envelope, withActor } from '../http/fapi/actor'
import { Paginated } from '../http/shared/pagination'
import { capabilityRoutes } from '../http/shared/routes'
import { Envelope } from './client/model'
import * as scim from './scim-admin'

const Org = t.Object({ id: t.String({ maxLength: 96 }) })
const Token = t.Object({ id: t.String({ maxLength: 96 }), token_id: t.String({ maxLength: 64 }) })
const tags = ['Organizations: SCIM provisioning']

/** The org-scoped SCIM admin (org:sys_provisioning:read to see, :manage to change). */
export const scimAdminFapi = capabilityRoutes('fapi:scim-admin')
  .use(withActor)
  .get(
    '/v1/organizations/:id/scim/endpoint',
    ({ env, actor, params }) => envelope(env, actor, scim.scimEndpointAsMember(env, actor, params.id)),
    {
      params: Org,
      response: { 200: Envelope(ScimEndpointResource) },
      detail: { summary: 'The SCIM base URL to paste into the IdP (org:sys_provisioning:read)', tags },
    },
  )
  .get(
    '/v1/organizations/:id/scim/tokens',
    ({ env, actor, params, query }) =>
      envelope(env, actor, scim.listScimTokensAsMember(env, actor, params.id, query)),
    {
      params: Org,
      query: ScimTokensQuery,
      response: { 200: Envelope(Paginated(ScimTokenResource)) },
      detail: { summary: 'SCIM tokens, active and revoked (org:sys_provisioning:read)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/scim/tokens',
    ({ env, actor, params, body }) =>
      envelope(env, actor, scim.issueScimTokenAsMember(env, actor, params.id, body ?? {})),
    {
      params: Org,
      body: t.Optional(IssueScimTokenBody),
      response: { 200: Envelope(IssuedScimToken) },
      detail: { summary: 'Issue a SCIM token, shown once (org:sys_provisioning:manage)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/scim/tokens/:token_id/revoke',
    ({ env, actor, params }) =>
      envelope(env, actor, scim.revokeScimTokenAsMember(env, actor, params.id, params.token_id)),
    {
      params: Token,
      response: { 200: Envelope(ScimTokenResource) },
      detail: { summary: 'Revoke a SCIM token (org:sys_provisioning:manage)', tags },
    },
  )
  .get(
    '/v1/organizations/:id/scim/attribute-mappings',
    ({ env, actor, params }) => envelope(env, actor, scim.getScimMappingAsMember(env, actor, params.id)),
    {
      params: Org,
      response: { 200: Envelope(ScimMappingResource) },
      detail: { summary: 'The attribute mapping, or the defaults (org:sys_provisioning:read)', tags },
    },
  )
  .put(
    '/v1/organizations/:id/scim/attribute-mappings',
    ({ env, actor, params, body }) =>
      envelope(env, actor, scim.replaceScimMappingAsMember(env, actor, params.id, body.mapping)),
    {
      params: Org,
      body: ReplaceScimMappingBody,
      response: { 200: Envelope(ScimMappingResource) },
      detail: {
        summary: 'Replace the attribute mapping; {"mapping": {}} reverts (org:sys_provisioning:manage)',
        tags,
      },
    },
  )
