import { type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import { type TSchema, t } from 'elysia'
import { type Cursor, decodeCursor, encodeCursor } from '../../lib/cursor'

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

export interface Page<T> {
  data: T[]
  total_count?: number
  meta: { next_cursor: string | null }
}

/**
 * Keyset pagination over a unique sort tuple (value, id). `fetch` receives the decoded
 * cursor and must return up to `take` rows after it in order; one extra row tells whether a
 * next page exists.
 */
export function keysetPage<Row extends { id: string }>(opts: {
  order: string
  limit: number
  cursor: string | undefined
  sortValue: (row: Row) => number | string
  fetch: (after: Cursor | null, take: number) => Row[]
}): { rows: Row[]; next_cursor: string | null } {
  const after = opts.cursor ? decodeCursor(opts.cursor, opts.order) : null
  const got = opts.fetch(after, opts.limit + 1)
  const rows = got.slice(0, opts.limit)
  const last = rows.at(-1)
  return {
    rows,
    next_cursor:
      got.length > opts.limit && last
        ? encodeCursor({ order: opts.order, key: [opts.sortValue(last), last.id] })
        : null,
  }
}

/** Newest-first keyset condition: rows strictly before the cursor's (created_at, id); none on page one. */
export const olderThan = (createdAt: SQLWrapper, id: SQLWrapper, after: Cursor | null): SQL | undefined =>
  after ? sql`(${createdAt}, ${id}) < (${Number(after.key[0])}, ${after.key[1]})` : undefined

/** Oldest-first keyset condition: rows strictly after the cursor's (created_at, id). */
export const newerThan = (createdAt: SQLWrapper, id: SQLWrapper, after: Cursor | null): SQL | undefined =>
  after ? sql`(${createdAt}, ${id}) > (${Number(after.key[0])}, ${after.key[1]})` : undefined

/** A list answer, with `total_count` only when it was asked for. */
export const pageOf = <T>(data: T[], next_cursor: string | null, total?: number): Page<T> => ({
  data,
  ...(total !== undefined ? { total_count: total } : {}),
  meta: { next_cursor },
})
