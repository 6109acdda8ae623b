import { t } from 'elysia'
import { Paginated, PaginationQuery } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { BapiClientResource } from './model'
import { getBapiClient, listBapiClients, verifyClient } from './service'

const tags = ['Sessions and clients']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const clientsBapi = capabilityRoutes('bapi:clients')
  .get('/v1/clients', ({ env, query }) => listBapiClients(env, query), {
    query: t.Object(PaginationQuery, { additionalProperties: false }),
    response: { 200: Paginated(BapiClientResource) },
    detail: { summary: 'List clients, newest first', tags },
  })
  .get('/v1/clients/:id', ({ env, params }) => getBapiClient(env, params.id), {
    params: Id,
    response: { 200: BapiClientResource },
    detail: { summary: 'Get a client', tags },
  })
  .post('/v1/clients/verify', ({ env, body }) => verifyClient(env, body.token), {
    body: t.Object({ token: t.String({ maxLength: 4096 }) }, { additionalProperties: false }),
    response: { 200: BapiClientResource },
    detail: { summary: 'Which client a client token belongs to', tags },
  })
