import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import {
  AppIdParams,
  CreateOauthApplicationBody,
  DeletedOauthApplication,
  DeletedOauthGrant,
  GrantParams,
  ListGrantsQuery,
  ListOauthApplicationsQuery,
  OauthApplicationResource,
  OauthApplicationWithSecret,
  OauthGrantResource,
  UpdateOauthApplicationBody,
} from './model'
import * as apps from './service'

const tags = ['OAuth applications']

export const oauthApplicationsBapi = capabilityRoutes('bapi:oauth-applications')
  .get('/v1/oauth-applications', ({ env, query }) => apps.listOauthApplications(env, query), {
    query: ListOauthApplicationsQuery,
    response: { 200: Paginated(OauthApplicationResource) },
    detail: { summary: 'List OAuth applications, newest first', tags },
  })
  .post('/v1/oauth-applications', ({ env, body }) => apps.createOauthApplication(env, body), {
    body: CreateOauthApplicationBody,
    response: { 200: OauthApplicationWithSecret },
    detail: {
      summary: 'Register a third-party app (client_secret is shown in this answer only)',
      description:
        'consent_screen_enabled=false lets any signed-in visitor be authorised silently: only for first-party apps you trust.',
      tags,
    },
  })
  .get('/v1/oauth-applications/:id', ({ env, params }) => apps.getOauthApplication(env, params.id), {
    params: AppIdParams,
    response: { 200: OauthApplicationResource },
    detail: { summary: 'Get an OAuth application (never its secret)', tags },
  })
  .patch(
    '/v1/oauth-applications/:id',
    ({ env, params, body }) => apps.updateOauthApplication(env, params.id, body),
    {
      params: AppIdParams,
      body: UpdateOauthApplicationBody,
      response: { 200: OauthApplicationResource },
      detail: { summary: 'Update an OAuth application (is_public and client_id are immutable)', tags },
    },
  )
  .delete('/v1/oauth-applications/:id', ({ env, params }) => apps.deleteOauthApplication(env, params.id), {
    params: AppIdParams,
    response: { 200: DeletedOauthApplication },
    detail: { summary: 'Delete an OAuth application and revoke every grant and token of it', tags },
  })
  .post(
    '/v1/oauth-applications/:id/rotate-secret',
    ({ env, params }) => apps.rotateOauthApplicationSecret(env, params.id),
    {
      params: AppIdParams,
      response: { 200: OauthApplicationWithSecret },
      detail: { summary: 'Replace the client secret (the old one stops working at once)', tags },
    },
  )
  .get(
    '/v1/oauth-applications/:id/authorization-grants',
    ({ env, params, query }) => apps.listApplicationGrants(env, params.id, query),
    {
      params: AppIdParams,
      query: ListGrantsQuery,
      response: { 200: Paginated(OauthGrantResource) },
      detail: { summary: "Every user's authorization grant to this app, newest first", tags },
    },
  )
  .delete(
    '/v1/oauth-applications/:id/authorization-grants/:grant_id',
    ({ env, params }) => apps.revokeApplicationGrant(env, params.id, params.grant_id),
    {
      params: GrantParams,
      response: { 200: DeletedOauthGrant },
      detail: {
        summary: 'Revoke one authorization grant (its refresh and access tokens stop at once)',
        tags,
      },
    },
  )
