import { Elysia } from 'elysia'
import { withEnv } from '../../http/shared/env'
import { Paginated } from '../../http/shared/pagination'
import { EventResource, ListEventsQuery } from './model'
import { listEvents } from './service'

export const eventsBapi = new Elysia({ name: 'bapi:events' })
  .use(withEnv)
  .get('/v1/events', ({ env, query }) => listEvents(env, query), {
    query: ListEventsQuery,
    response: { 200: Paginated(EventResource) },
    detail: { summary: 'List events, newest first', tags: ['Events'] },
  })
