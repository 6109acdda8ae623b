import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import * as connections from './connections'
import {
  ConnectionIdParams,
  CreateEnterpriseConnectionBody,
  DeletedEnterpriseConnection,
  EnterpriseConnectionResource,
  EnterpriseConnectionTestResult,
  ListEnterpriseConnectionsQuery,
  UpdateEnterpriseConnectionBody,
} from './model'
import { testConnection } from './probe'

const tags = ['Enterprise SSO']

export const enterpriseConnectionsBapi = capabilityRoutes('bapi:enterprise-connections')
  .get('/v1/enterprise-connections', ({ env, query }) => connections.listConnections(env, query), {
    query: ListEnterpriseConnectionsQuery,
    response: { 200: Paginated(EnterpriseConnectionResource) },
    detail: { summary: 'List enterprise connections (instance-wide and org-scoped), newest first', tags },
  })
  .post('/v1/enterprise-connections', ({ env, body }) => connections.createConnection(env, body), {
    body: CreateEnterpriseConnectionBody,
    response: { 200: EnterpriseConnectionResource },
    detail: { summary: 'Create a SAML or OIDC enterprise connection', tags },
  })
  .get('/v1/enterprise-connections/:id', ({ env, params }) => connections.getConnection(env, params.id), {
    params: ConnectionIdParams,
    response: { 200: EnterpriseConnectionResource },
    detail: { summary: 'Get an enterprise connection (secrets are never included)', tags },
  })
  .patch(
    '/v1/enterprise-connections/:id',
    ({ env, params, body }) => connections.updateConnection(env, params.id, body),
    {
      params: ConnectionIdParams,
      body: UpdateEnterpriseConnectionBody,
      response: { 200: EnterpriseConnectionResource },
      detail: { summary: 'Update an enterprise connection (null clears a write-only secret)', tags },
    },
  )
  .delete(
    '/v1/enterprise-connections/:id',
    ({ env, params }) => connections.deleteConnection(env, params.id),
    {
      params: ConnectionIdParams,
      response: { 200: DeletedEnterpriseConnection },
      detail: { summary: 'Soft-delete an enterprise connection (its enterprise accounts stay)', tags },
    },
  )
  .post('/v1/enterprise-connections/:id/test', ({ env, params }) => testConnection(env, params.id), {
    params: ConnectionIdParams,
    response: { 200: EnterpriseConnectionTestResult },
    detail: {
      summary: 'Dry-run probe of a connection: metadata, certificates, discovery, JWKS, redirect URI',
      tags,
    },
  })
