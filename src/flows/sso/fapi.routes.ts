import { t } from 'elysia'
import {
  CreateEnterpriseConnectionBody,
  DeletedEnterpriseConnection,
  EnterpriseConnectionResource,
  EnterpriseConnectionTestResult,
  ListEnterpriseConnectionsQuery,
  UpdateEnterpriseConnectionBody,
} from '../../domain/enterprise-sso/model'
import { envelope, withActor } from '../../http/fapi/actor'
import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope } from '../client/model'
import * as org from './org-connections'

const tags = ['Organizations: enterprise SSO']
// The organization is `:id`, as on every FAPI organization route (one router, one name per segment).
const OrgParams = t.Object({ id: t.String({ maxLength: 128 }) })
const OrgConnectionParams = t.Object({
  id: t.String({ maxLength: 128 }),
  connection_id: t.String({ maxLength: 64 }),
})
const base = '/v1/organizations/:id/enterprise-connections'

/** Self-serve SSO: an organization's members with org:sys_enterprise_sso:manage manage its connections. */
export const orgEnterpriseConnectionsFapi = capabilityRoutes('fapi:org-enterprise-connections')
  .use(withActor)
  .get(
    base,
    ({ env, actor, params, query }) =>
      envelope(env, actor, org.listOrgConnections(env, actor, params.id, query)),
    {
      params: OrgParams,
      query: ListEnterpriseConnectionsQuery,
      response: { 200: Envelope(Paginated(EnterpriseConnectionResource)) },
      detail: { summary: "The organization's enterprise connections", tags },
    },
  )
  .post(
    base,
    ({ env, actor, params, body }) =>
      envelope(env, actor, org.createOrgConnection(env, actor, params.id, body)),
    {
      params: OrgParams,
      body: CreateEnterpriseConnectionBody,
      response: { 200: Envelope(EnterpriseConnectionResource) },
      detail: { summary: 'Create an enterprise connection for the organization', tags },
    },
  )
  .get(
    `${base}/:connection_id`,
    ({ env, actor, params }) =>
      envelope(env, actor, org.getOrgConnection(env, actor, params.id, params.connection_id)),
    {
      params: OrgConnectionParams,
      response: { 200: Envelope(EnterpriseConnectionResource) },
      detail: { summary: 'Get one of the organization’s enterprise connections', tags },
    },
  )
  .patch(
    `${base}/:connection_id`,
    ({ env, actor, params, body }) =>
      envelope(env, actor, org.updateOrgConnection(env, actor, params.id, params.connection_id, body)),
    {
      params: OrgConnectionParams,
      body: UpdateEnterpriseConnectionBody,
      response: { 200: Envelope(EnterpriseConnectionResource) },
      detail: { summary: 'Update one of the organization’s enterprise connections', tags },
    },
  )
  .delete(
    `${base}/:connection_id`,
    ({ env, actor, params }) =>
      envelope(env, actor, org.deleteOrgConnection(env, actor, params.id, params.connection_id)),
    {
      params: OrgConnectionParams,
      response: { 200: Envelope(DeletedEnterpriseConnection) },
      detail: { summary: 'Soft-delete one of the organization’s enterprise connections', tags },
    },
  )
  .post(
    `${base}/:connection_id/test`,
    ({ env, actor, params }) =>
      envelope(env, actor, org.testOrgConnection(env, actor, params.id, params.connection_id)),
    {
      params: OrgConnectionParams,
      response: { 200: Envelope(EnterpriseConnectionTestResult) },
      detail: { summary: 'Dry-run probe of one of the organization’s connections', tags },
    },
  )
