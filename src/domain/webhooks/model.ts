import { type Static, t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'

const EventType = t.String({ pattern: '^[A-Za-z]+(\\.[A-Za-z]+)+$', maxLength: 100 })
const EventTypes = t.Array(EventType, { maxItems: 100, uniqueItems: true })
const Url = t.String({ minLength: 1, maxLength: 2048 })
const Description = t.String({ maxLength: 512 })

export const WebhookEndpointResource = t.Object({
  object: t.Literal('webhook_endpoint'),
  id: t.String(),
  url: t.String(),
  description: t.Nullable(t.String()),
  /** Empty: every event type. */
  event_types: t.Array(t.String()),
  disabled: t.Boolean(),
  /** `manual` or `failing` (disabled after failing for too long); null while enabled. */
  disabled_reason: t.Nullable(t.String()),
  /** First failed attempt since the last success. */
  failing_since: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type WebhookEndpointResource = Static<typeof WebhookEndpointResource>

/** Create and rotate-secret answers: the only time the signing secret is shown. */
export const WebhookEndpointWithSecret = t.Composite([
  WebhookEndpointResource,
  t.Object({ secret: t.String() }),
])
export type WebhookEndpointWithSecret = Static<typeof WebhookEndpointWithSecret>

export const DeletedWebhookEndpoint = t.Object({
  object: t.Literal('webhook_endpoint'),
  id: t.String(),
  deleted: t.Literal(true),
})

export const CreateWebhookEndpointBody = t.Object(
  {
    url: Url,
    description: t.Optional(t.Nullable(Description)),
    event_types: t.Optional(EventTypes),
  },
  { additionalProperties: false },
)
export type CreateWebhookEndpointBody = Static<typeof CreateWebhookEndpointBody>

export const UpdateWebhookEndpointBody = t.Object(
  {
    url: t.Optional(Url),
    description: t.Optional(t.Nullable(Description)),
    event_types: t.Optional(EventTypes),
    disabled: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
)
export type UpdateWebhookEndpointBody = Static<typeof UpdateWebhookEndpointBody>

export const WebhookAttemptResource = t.Object({
  object: t.Literal('webhook_attempt'),
  id: t.String(),
  url: t.String(),
  /** null when no response arrived. */
  status_code: t.Nullable(t.Integer()),
  latency_ms: t.Integer(),
  error: t.Nullable(t.String()),
  created_at: t.Integer(),
})

const DeliveryStatus = t.Union([
  t.Literal('pending'),
  t.Literal('sending'),
  t.Literal('succeeded'),
  t.Literal('failed'),
])

export const WebhookDeliveryResource = t.Object({
  object: t.Literal('webhook_delivery'),
  /** Also the `webhook-id` / `svix-id` header: stable across retries and replays. */
  id: t.String(),
  endpoint_id: t.String(),
  event_id: t.String(),
  event_type: t.String(),
  status: DeliveryStatus,
  attempt_count: t.Integer(),
  /** When the next attempt is due; null unless pending. */
  next_attempt_at: t.Nullable(t.Integer()),
  last_attempt_at: t.Nullable(t.Integer()),
  succeeded_at: t.Nullable(t.Integer()),
  /** Oldest first. */
  attempts: t.Array(WebhookAttemptResource),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type WebhookDeliveryResource = Static<typeof WebhookDeliveryResource>

export const ListWebhookEndpointsQuery = t.Object(PaginationQuery, { additionalProperties: false })
export type ListWebhookEndpointsQuery = Static<typeof ListWebhookEndpointsQuery>

export const ListDeliveriesQuery = t.Object(
  {
    ...PaginationQuery,
    status: t.Optional(DeliveryStatus),
  },
  { additionalProperties: false },
)
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>

export const EndpointIdParams = t.Object({ id: t.String({ maxLength: 64 }) })
export const DeliveryParams = t.Object({
  id: t.String({ maxLength: 64 }),
  delivery_id: t.String({ maxLength: 64 }),
})
