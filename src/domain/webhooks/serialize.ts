import type { WebhookDeliveryResource, WebhookEndpointResource } from './model'
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from './schema'

export const toWebhookEndpointResource = (r: WebhookEndpointRow): WebhookEndpointResource => ({
  object: 'webhook_endpoint',
  id: r.id,
  url: r.url,
  description: r.description,
  event_types: r.eventTypes,
  disabled: r.disabled,
  disabled_reason: r.disabledReason,
  failing_since: r.failingSince,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
})

export const toWebhookAttemptResource = (a: WebhookAttemptRow) => ({
  object: 'webhook_attempt' as const,
  id: a.id,
  url: a.url,
  status_code: a.statusCode,
  latency_ms: a.latencyMs,
  error: a.error,
  created_at: a.createdAt,
})

export const toWebhookDeliveryResource = (
  d: WebhookDeliveryRow,
  eventType: string,
  attempts: WebhookAttemptRow[],
): WebhookDeliveryResource => ({
  object: 'webhook_delivery',
  id: d.id,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: eventType,
  status: d.status,
  attempt_count: d.attemptCount,
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt : null,
  last_attempt_at: d.lastAttemptAt,
  succeeded_at: d.succeededAt,
  attempts: attempts.map(toWebhookAttemptResource),
  created_at: d.createdAt,
  updated_at: d.updatedAt,
})
