import { and, asc, count, desc, type SQL } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { keysetPage, newerThan, olderThan } from '../http/shared/pagination'
import type { EnvContext } from '../tenancy/context'

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
  ctx: EnvContext,
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
