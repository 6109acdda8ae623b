import { eq } from 'drizzle-orm'
import type { BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import { webhookDeliveries, webhookEndpoints } from './schema'

/** The job that sends deliveries (see worker.ts). */
export const WEBHOOK_JOB = 'webhooks'

type Tx = Pick<BunSQLiteDatabase, 'insert' | 'select'>

/** Enabled endpoints and their filters, cached on the handle (every event reads them). */
const enabledEndpoints = (ctx: EnvContext, tx: Tx) =>
  ctx.cached('webhooks.enabledEndpoints', () =>
    tx
      .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.disabled, false))
      .all(),
  )

/**
 * Queues one delivery per matching enabled endpoint, in the event's own transaction, and asks
 * for a delivery run right after the commit. Subscribed to every event (src/reactions.ts).
 */
export function queueDeliveries(
  tx: Tx,
  ctx: EnvContext,
  event: { id: string; type: string; createdAt: number },
) {
  const targets = enabledEndpoints(ctx, tx).filter(
    (e) => e.eventTypes.length === 0 || e.eventTypes.includes(event.type),
  )
  if (!targets.length) return
  tx.insert(webhookDeliveries)
    .values(
      targets.map((e) => ({
        id: newId('webhookDelivery'),
        endpointId: e.id,
        eventId: event.id,
        status: 'pending' as const,
        attemptCount: 0,
        nextAttemptAt: event.createdAt,
        createdAt: event.createdAt,
        updatedAt: event.createdAt,
      })),
    )
    .run()
  ctx.kick(WEBHOOK_JOB)
}
