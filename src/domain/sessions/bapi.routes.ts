import { t } from 'elysia'
import { Paginated, PaginationQuery } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { BapiSessionResource } from './model'
import { SESSION_STATUSES } from './schema'
import { getSession, listSessions, revokeSession } from './service'

const tags = ['Sessions and clients']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const sessionsBapi = capabilityRoutes('bapi:sessions')
  .get('/v1/sessions', ({ env, query }) => listSessions(env, query), {
    query: t.Object(
      {
        ...PaginationQuery,
        user_id: t.Optional(t.String({ maxLength: 64 })),
        client_id: t.Optional(t.String({ maxLength: 64 })),
        status: t.Optional(
          t.Union(
            SESSION_STATUSES.map((v) => t.Literal(v)) as unknown as [ReturnType<typeof t.Literal<'active'>>],
          ),
        ),
      },
      { additionalProperties: false },
    ),
    response: { 200: Paginated(BapiSessionResource) },
    detail: { summary: 'List sessions by user or client and status', tags },
  })
  .get('/v1/sessions/:id', ({ env, params }) => getSession(env, params.id), {
    params: Id,
    response: { 200: BapiSessionResource },
    detail: { summary: 'Get a session', tags },
  })
  .post('/v1/sessions/:id/revoke', ({ env, params }) => revokeSession(env, params.id), {
    params: Id,
    response: { 200: BapiSessionResource },
    detail: { summary: 'Revoke a session', tags },
  })
