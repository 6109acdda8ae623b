import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import {
  CreateOauthProviderBody,
  DeletedOauthProvider,
  ListOauthProvidersQuery,
  OauthProviderIdParams,
  OauthProviderResource,
  OauthProviderTestResult,
  UpdateOauthProviderBody,
} from './model'
import * as providers from './service'

const tags = ['OAuth providers']
const one = { params: OauthProviderIdParams, response: { 200: OauthProviderResource } }

export const oauthProvidersBapi = capabilityRoutes('bapi:oauth-providers')
  .get('/v1/oauth-providers', ({ env, query }) => providers.listOauthProviders(env, query), {
    query: ListOauthProvidersQuery,
    response: { 200: Paginated(OauthProviderResource) },
    detail: { summary: 'List social providers, newest first', tags },
  })
  .post('/v1/oauth-providers', ({ env, body }) => providers.createOauthProvider(env, body), {
    body: CreateOauthProviderBody,
    response: { 200: OauthProviderResource },
    detail: {
      summary: 'Create a preset, custom_oidc or custom_oauth2 provider (client_secret is write-only)',
      tags,
    },
  })
  .get('/v1/oauth-providers/:id', ({ env, params }) => providers.getOauthProvider(env, params.id), {
    ...one,
    detail: { summary: 'Get a social provider (client_secret is never returned)', tags },
  })
  .patch(
    '/v1/oauth-providers/:id',
    ({ env, params, body }) => providers.updateOauthProvider(env, params.id, body),
    {
      ...one,
      body: UpdateOauthProviderBody,
      detail: {
        summary: 'Update toggles, secret, scopes, endpoints, mapping (kind and key are immutable)',
        tags,
      },
    },
  )
  .delete('/v1/oauth-providers/:id', ({ env, params }) => providers.deleteOauthProvider(env, params.id), {
    params: OauthProviderIdParams,
    response: { 200: DeletedOauthProvider },
    detail: { summary: 'Soft-delete a provider (409 while external accounts link to it)', tags },
  })
  .post('/v1/oauth-providers/:id/test', ({ env, params }) => providers.testOauthProvider(env, params.id), {
    params: OauthProviderIdParams,
    response: { 200: OauthProviderTestResult },
    detail: { summary: 'Dry-run probe of the provider’s endpoints and credentials', tags },
  })
