import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { EventResource, ListEventsQuery } from './model'
import { listEvents } from './service'

export const eventsBapi = capabilityRoutes('bapi:events').get(
  '/v1/events',
  ({ env, query }) => listEvents(env, query),
  {
    query: ListEventsQuery,
    response: { 200: Paginated(EventResource) },
    detail: { summary: 'List events, newest first', tags: ['Events'] },
  },
)
