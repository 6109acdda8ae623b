import type { Database } from 'bun:sqlite'
import { getTableColumns, getTableName, type InferSelectModel } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'

/**
 * A raw prepared select over `table` whose rows come out as drizzle's `select()` would give
 * them (camelCase keys, booleans and JSON mapped by each column's own mapping). For the hot
 * reads: a drizzle query costs tens of microseconds to build and map, this a few.
 * `where` is the SQL after WHERE (ORDER BY included), with `?` parameters.
 */
export function rawSelect<T extends SQLiteTable>(client: Database, table: T, where: string) {
  const columns = Object.entries(getTableColumns(table))
  const stmt = client.query<unknown[], string[]>(
    `select ${columns.map(([, c]) => `"${c.name}"`).join(', ')} from "${getTableName(table)}" where ${where}`,
  )
  const toRow = (values: unknown[]) => {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < columns.length; i++) {
      const [key, column] = columns[i]!
      const v = values[i]
      row[key] = v === null ? null : column.mapFromDriverValue(v)
    }
    return row as InferSelectModel<T>
  }
  return {
    all: (...params: string[]): InferSelectModel<T>[] => stmt.values(...params).map(toRow),
  }
}
