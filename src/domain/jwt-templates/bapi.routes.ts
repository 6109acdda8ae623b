import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { mintTemplateToken } from './mint'
import {
  CreateJwtTemplateBody,
  DeletedJwtTemplate,
  JwtTemplateIdParams,
  JwtTemplateResource,
  ListJwtTemplatesQuery,
  MintParams,
  TokenResource,
  UpdateJwtTemplateBody,
} from './model'
import * as templates from './service'

const tags = ['JWT templates']
const one = { params: JwtTemplateIdParams, response: { 200: JwtTemplateResource } }

export const jwtTemplatesBapi = capabilityRoutes('bapi:jwt-templates')
  .get('/v1/jwt-templates', ({ env, query }) => templates.listJwtTemplates(env, query), {
    query: ListJwtTemplatesQuery,
    response: { 200: Paginated(JwtTemplateResource) },
    detail: { summary: 'List JWT templates, newest first', tags },
  })
  .post('/v1/jwt-templates', ({ env, body }) => templates.createJwtTemplate(env, body), {
    body: CreateJwtTemplateBody,
    response: { 200: JwtTemplateResource },
    detail: { summary: 'Create a JWT template (custom_signing_key is write-only)', tags },
  })
  .get('/v1/jwt-templates/:id', ({ env, params }) => templates.getJwtTemplate(env, params.id), {
    ...one,
    detail: { summary: 'Get a JWT template', tags },
  })
  .patch(
    '/v1/jwt-templates/:id',
    ({ env, params, body }) => templates.updateJwtTemplate(env, params.id, body),
    {
      ...one,
      body: UpdateJwtTemplateBody,
      detail: { summary: 'Update a JWT template (custom_signing_key: null removes the key)', tags },
    },
  )
  .delete('/v1/jwt-templates/:id', ({ env, params }) => templates.deleteJwtTemplate(env, params.id), {
    params: JwtTemplateIdParams,
    response: { 200: DeletedJwtTemplate },
    detail: { summary: 'Delete a JWT template', tags },
  })
  .post(
    '/v1/users/:id/jwt-templates/:name/tokens',
    ({ env, params }) => mintTemplateToken(env, params.name, { userId: params.id, session: null }),
    {
      params: MintParams,
      response: { 200: TokenResource },
      detail: { summary: 'Mint a template token for a user, without a session', tags },
    },
  )
