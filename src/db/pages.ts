import { and, asc, count, desc, type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { type Cursor, decodeCursor, encodeCursor } from '../lib/cursor'
import type { EnvDb } from './types'

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

export interface ListQuery {
  limit?: number
  cursor?: string
  include_total_count?: boolean
}

type Listable = SQLiteTable & { createdAt: SQLiteColumn; id: SQLiteColumn }

/**
 * One keyset page of a table's rows over a filter, by (created_at, id): newest first, or oldest
 * first (roles and permissions, so the system ones lead); with the total when it was asked for.
 */
export function tablePage<T extends Listable>(
  ctx: { db: EnvDb },
  table: T,
  filter: SQL | undefined,
  q: ListQuery,
  order: '-created_at' | '+created_at' = '-created_at',
) {
  type Row = T['$inferSelect'] & { id: string; createdAt: number }
  const newest = order === '-created_at'
  const page = keysetPage<Row>({
    order,
    limit: q.limit ?? 10,
    cursor: q.cursor,
    sortValue: (r) => r.createdAt,
    fetch: (after, take) =>
      ctx.db
        .select()
        .from(table as SQLiteTable)
        .where(
          and(
            filter,
            newest
              ? olderThan(table.createdAt, table.id, after)
              : newerThan(table.createdAt, table.id, after),
          ),
        )
        .orderBy(
          ...(newest ? [desc(table.createdAt), desc(table.id)] : [asc(table.createdAt), asc(table.id)]),
        )
        .limit(take)
        .all() as Row[],
  })
  const total = q.include_total_count
    ? (ctx.db
        .select({ n: count() })
        .from(table as SQLiteTable)
        .where(filter)
        .get()?.n ?? 0)
    : undefined
  return { rows: page.rows, next_cursor: page.next_cursor, total }
}
