import { type TSchema, t } from 'elysia'

export const PaginationQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 10 })),
  cursor: t.Optional(t.String({ maxLength: 512 })),
  include_total_count: t.Optional(t.Boolean()),
}

export const Paginated = <T extends TSchema>(item: T) =>
  t.Object({
    data: t.Array(item),
    total_count: t.Optional(t.Integer()),
    meta: t.Object({ next_cursor: t.Nullable(t.String()) }),
  })
