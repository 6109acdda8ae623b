import { and, asc, eq, inArray } from 'drizzle-orm'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { AppError, assertThat, notFound } from '../../lib/errors'
import { isId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { eventsByIds } from '../events/service'
import { WEBHOOK_JOB } from './fanout'
import type { ListDeliveriesQuery, WebhookDeliveryResource } from './model'
import { type WebhookDeliveryRow, webhookAttempts, webhookDeliveries } from './schema'
import { toWebhookDeliveryResource } from './serialize'
import { loadEndpoint } from './service'

type Db = EnvContext['db'] | EnvTx

/** Deliveries with their event type and attempts (two queries for a whole page). */
function withDetails(db: Db, rows: WebhookDeliveryRow[]): WebhookDeliveryResource[] {
  if (!rows.length) return []
  const types = new Map(eventsByIds(db, [...new Set(rows.map((r) => r.eventId))]).map((e) => [e.id, e.type]))
  const attempts = db
    .select()
    .from(webhookAttempts)
    .where(
      inArray(
        webhookAttempts.deliveryId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(webhookAttempts.createdAt), asc(webhookAttempts.id))
    .all()
  return rows.map((r) =>
    toWebhookDeliveryResource(
      r,
      types.get(r.eventId) ?? '',
      attempts.filter((a) => a.deliveryId === r.id),
    ),
  )
}

/** The delivery log of one endpoint, newest first. */
export function listDeliveries(
  ctx: EnvContext,
  endpointId: string,
  q: ListDeliveriesQuery,
): Page<WebhookDeliveryResource> {
  assertThat(loadEndpoint(ctx.db, endpointId), () => notFound('webhook endpoint'))
  const page = tablePage(
    ctx,
    webhookDeliveries,
    and(
      eq(webhookDeliveries.endpointId, endpointId),
      q.status ? eq(webhookDeliveries.status, q.status) : undefined,
    ),
    q,
  )
  return pageOf(withDetails(ctx.db, page.rows), page.next_cursor, page.total)
}

const conflict = (code: string, long: string) =>
  new AppError(409, [{ code, message: 'conflict', long_message: long }])

/**
 * Sends one delivery again: the same message (same `webhook-id`, so receivers can tell a
 * replay), with a fresh retry schedule, due now.
 */
export function replayDelivery(
  ctx: EnvContext,
  endpointId: string,
  deliveryId: string,
): WebhookDeliveryResource {
  const now = ctx.clock.now()
  const resource = withTx(ctx, (tx) => {
    const endpoint = loadEndpoint(tx, endpointId)
    assertThat(endpoint, () => notFound('webhook endpoint'))
    const row = isId('webhookDelivery', deliveryId)
      ? tx
          .select()
          .from(webhookDeliveries)
          .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
          .get()
      : undefined
    assertThat(row, () => notFound('webhook delivery'))
    if (endpoint.disabled) {
      throw conflict('webhook_endpoint_disabled', 'The endpoint is disabled; enable it before replaying.')
    }
    if (row.status === 'sending') {
      throw conflict('webhook_delivery_in_progress', 'This delivery is being sent right now.')
    }
    tx.update(webhookDeliveries)
      .set({ status: 'pending', attemptCount: 0, nextAttemptAt: now, succeededAt: null, updatedAt: now })
      .where(eq(webhookDeliveries.id, deliveryId))
      .run()
    const updated = tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).get()!
    return withDetails(tx, [updated])[0]!
  })
  ctx.kick(WEBHOOK_JOB)
  return resource
}
