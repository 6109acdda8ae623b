import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { events } from '../events/schema'

export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered; empty means every type. */
    eventTypes: text('event_types', { mode: 'json' }).$type<string[]>().notNull(),
    /** `whsec_…`, sealed with the env data key. */
    secret: text('secret').notNull(),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    /** `manual` (PATCH) or `failing` (no success for too long); null while enabled. */
    disabledReason: text('disabled_reason', { enum: ['manual', 'failing'] }),
    /** First failed attempt since the last success; null while healthy. */
    failingSince: integer('failing_since'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_created').on(t.createdAt, t.id)],
)

/**
 * One event for one endpoint (a "message": its id is the stable `webhook-id`). Created in the
 * event's transaction, so an acknowledged change always gets delivered.
 *
 * `next_attempt_at` drives the worker: the due time while `pending`, the claim's expiry while
 * `sending` (a claim left by a crashed process is taken over once it expires), null once
 * `succeeded` or `failed`.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'sending', 'succeeded', 'failed'] }).notNull(),
    /** Attempts started since creation or the last replay (drives the backoff schedule). */
    attemptCount: integer('attempt_count').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    lastAttemptAt: integer('last_attempt_at'),
    succeededAt: integer('succeeded_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('webhook_deliveries_endpoint_created').on(t.endpointId, t.createdAt, t.id),
    index('webhook_deliveries_due').on(t.nextAttemptAt),
    index('webhook_deliveries_event').on(t.eventId),
  ],
)

/** One HTTP attempt of a delivery: the delivery log. */
export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** null when no response arrived (timeout, network error, refused address). */
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('webhook_attempts_delivery_created').on(t.deliveryId, t.createdAt, t.id)],
)

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect
