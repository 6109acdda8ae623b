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
 * The deepest `offset` a list takes. Clerk's SDKs page with limit/offset; an offset is served
 * by reading the rows it skips, so it is bounded (the cursor in `meta.next_cursor` goes deeper
 * at the cost of one page each).
 */
export const MAX_OFFSET = 10_000

/**
 * Keyset pagination over a unique sort tuple (value, id). `fetch` receives the decoded
 * cursor and must return up to `take` rows after it in order; one extra row tells whether a
 * next page exists. An `offset` (Clerk's paging) skips that many rows after the cursor (or
 * from the start): they are fetched and dropped here, so every `fetch` supports it as it is.
 */
export function keysetPage<Row extends { id: string }>(opts: {
  order: string
  limit: number
  cursor: string | undefined
  offset?: number
  sortValue: (row: Row) => number | string
  fetch: (after: Cursor | null, take: number) => Row[]
}): { rows: Row[]; next_cursor: string | null } {
  const after = opts.cursor ? decodeCursor(opts.cursor, opts.order) : null
  const skip = Math.min(Math.max(opts.offset ?? 0, 0), MAX_OFFSET)
  const got = opts.fetch(after, skip + opts.limit + 1)
  const rows = got.slice(skip, skip + opts.limit)
  const last = rows.at(-1)
  return {
    rows,
    next_cursor:
      got.length > skip + opts.limit && last
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

/** A list answer, with `total_count` when the total was counted. */
export const pageOf = <T>(data: T[], next_cursor: string | null, total?: number): Page<T> => ({
  data,
  ...(total !== undefined ? { total_count: total } : {}),
  meta: { next_cursor },
})

export interface ListQuery {
  limit?: number
  cursor?: string
  /** Clerk's paging: rows to skip (after the cursor, if one is given too). */
  offset?: number
  /**
   * Clerk's "answer `{ data, total_count }`"; like include_total_count, it matters only where the
   * total is not always counted (GET /v1/users).
   */
  paginated?: boolean
  include_total_count?: boolean
}

type Listable = SQLiteTable & { createdAt: SQLiteColumn; id: SQLiteColumn }

/**
 * One keyset page of a table's rows over a filter, by (created_at, id): newest first, or oldest
 * first (roles and permissions, so the system ones lead); with the total over the filter
 * (Clerk's lists answer `{ data, total_count }` always, and its SDKs read it).
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
    offset: q.offset,
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
  const total =
    ctx.db
      .select({ n: count() })
      .from(table as SQLiteTable)
      .where(filter)
      .get()?.n ?? 0
  return { rows: page.rows, next_cursor: page.next_cursor, total }
}
