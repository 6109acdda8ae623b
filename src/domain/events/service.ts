import { eq, inArray } from 'drizzle-orm'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { events } from './schema'

type Reader = EnvContext['db'] | EnvTx

export interface EmittedEvent {
  id: string
  type: string
  payload: Record<string, unknown>
  createdAt: number
}

/**
 * A capability's reaction to another's event, run inside the emitting transaction: what it
 * writes commits or rolls back with the change, and what it emits is reacted to in turn.
 */
export type Reaction = (tx: EnvTx, ctx: EnvContext, event: EmittedEvent) => void

const reactions = new Map<string, Reaction[]>()

/**
 * Subscribes to an event type (`*`: every event). Capabilities export their reactions and the
 * composition root (src/reactions.ts) subscribes them, so no capability imports the one it
 * reacts to.
 */
export function react(type: string, reaction: Reaction) {
  const list = reactions.get(type) ?? []
  if (!list.includes(reaction)) list.push(reaction)
  reactions.set(type, list)
}

/**
 * Records a change. Call it with the transaction that makes the change, so the event exists
 * exactly when the change does; reactions (webhook fan-out among them) run in it too, so no
 * acknowledged change goes undelivered.
 */
export function emit(tx: EnvTx, ctx: EnvContext, type: string, data: Record<string, unknown>) {
  const event: EmittedEvent = { id: newId('event'), type, payload: data, createdAt: ctx.clock.now() }
  tx.insert(events).values(event).run()
  for (const reaction of reactions.get(type) ?? []) reaction(tx, ctx, event)
  for (const reaction of reactions.get('*') ?? []) reaction(tx, ctx, event)
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

/** The events with these ids (webhook deliveries name theirs). */
export function eventsByIds(db: Reader, ids: string[]): EmittedEvent[] {
  if (!ids.length) return []
  return db.select().from(events).where(inArray(events.id, ids)).all()
}

/** Newest first. */
export function listEvents(
  ctx: EnvContext,
  q: { type?: string; cursor?: string; limit?: number; include_total_count?: boolean },
): Page<EventResource> {
  const _typeFilter = q.type ? eq(events.type, q.type) : undefined
  const page = tablePage(ctx, events, q.type ? eq(events.type, q.type) : undefined, q)
  return pageOf(page.rows.map(toResource), page.next_cursor, page.total)
}
