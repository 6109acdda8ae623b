import { t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'

export const EventResource = t.Object({
  object: t.Literal('event'),
  id: t.String(),
  type: t.String(),
  data: t.Record(t.String(), t.Unknown()),
  created_at: t.Integer(),
})

export const ListEventsQuery = t.Object(
  {
    ...PaginationQuery,
    type: t.Optional(t.String({ pattern: '^[A-Za-z]+(\\.[A-Za-z]+)+$', maxLength: 100 })),
  },
  { additionalProperties: false },
)
