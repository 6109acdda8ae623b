import { and, desc, eq, sql } from 'drizzle-orm'
import type { BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import { keysetPage, olderThan, type Page, pageOf } from '../../db/pages'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import { queueDeliveries } from '../webhooks/fanout'
import { events } from './schema'

type Writer = Pick<BunSQLiteDatabase, 'insert' | 'select'>

/**
 * Records a change. Call it with the transaction that makes the change, so the event exists
 * exactly when the change does. The same transaction queues its webhook deliveries, so no
 * acknowledged change goes undelivered.
 */
export function emit(tx: Writer, ctx: EnvContext, type: string, data: Record<string, unknown>) {
  const event = { id: newId('event'), type, payload: data, createdAt: ctx.clock.now() }
  tx.insert(events).values(event).run()
  queueDeliveries(tx, ctx, event)
}

export interface EventResource {
  object: 'event'
  id: string
  type: string
  data: Record<string, unknown>
  created_at: number
}

const toResource = (r: typeof events.$inferSelect): EventResource => ({
  object: 'event',
  id: r.id,
  type: r.type,
  data: r.payload,
  created_at: r.createdAt,
})

/** Newest first. */
export function listEvents(
  ctx: EnvContext,
  q: { type?: string; cursor?: string; limit?: number; include_total_count?: boolean },
): Page<EventResource> {
  const typeFilter = q.type ? eq(events.type, q.type) : undefined
  const page = keysetPage<typeof events.$inferSelect>({
    order: '-created_at',
    limit: q.limit ?? 10,
    cursor: q.cursor,
    sortValue: (r) => r.createdAt,
    fetch: (after, take) =>
      ctx.db
        .select()
        .from(events)
        .where(and(typeFilter, olderThan(events.createdAt, events.id, after)))
        .orderBy(desc(events.createdAt), desc(events.id))
        .limit(take)
        .all(),
  })
  const total = q.include_total_count
    ? (ctx.db.select({ n: sql<number>`count(*)` }).from(events).where(typeFilter).get()?.n ?? 0)
    : undefined
  return pageOf(page.rows.map(toResource), page.next_cursor, total)
}
