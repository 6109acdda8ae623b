import { type TSchema, t } from 'elysia'
import { MAX_OFFSET } from '../../db/pages'

/**
 * The seed's keyset paging (`cursor`, `limit`) and Clerk's (`limit`, `offset`, `paginated`),
 * together: an offset skips rows after the cursor. Lists answer `total_count` always, except
 * GET /v1/users (there with `include_total_count=true` or `paginated=true`), as Clerk's do.
 */
export const PaginationQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 10 })),
  cursor: t.Optional(t.String({ maxLength: 512 })),
  offset: t.Optional(t.Integer({ minimum: 0, maximum: MAX_OFFSET })),
  paginated: t.Optional(t.Boolean()),
  include_total_count: t.Optional(t.Boolean()),
}

export const Paginated = <T extends TSchema>(item: T) =>
  t.Object({
    data: t.Array(item),
    total_count: t.Optional(t.Integer()),
    meta: t.Object({ next_cursor: t.Nullable(t.String()) }),
  })
