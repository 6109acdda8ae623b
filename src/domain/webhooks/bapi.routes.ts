import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { listDeliveries, replayDelivery } from './deliveries'
import {
  CreateWebhookEndpointBody,
  DeletedWebhookEndpoint,
  DeliveryParams,
  EndpointIdParams,
  ListDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
  WebhookDeliveryResource,
  WebhookEndpointResource,
  WebhookEndpointWithSecret,
} from './model'
import * as endpoints from './service'

const tags = ['Webhooks']

export const webhooksBapi = capabilityRoutes('bapi:webhooks')
  .get('/v1/webhook-endpoints', ({ env, query }) => endpoints.listWebhookEndpoints(env, query), {
    query: ListWebhookEndpointsQuery,
    response: { 200: Paginated(WebhookEndpointResource) },
    detail: { summary: 'List webhook endpoints, newest first', tags },
  })
  .post('/v1/webhook-endpoints', ({ env, body }) => endpoints.createWebhookEndpoint(env, body), {
    body: CreateWebhookEndpointBody,
    response: { 200: WebhookEndpointWithSecret },
    detail: { summary: 'Create a webhook endpoint (its signing secret is shown in this answer only)', tags },
  })
  .get('/v1/webhook-endpoints/:id', ({ env, params }) => endpoints.getWebhookEndpoint(env, params.id), {
    params: EndpointIdParams,
    response: { 200: WebhookEndpointResource },
    detail: { summary: 'Get a webhook endpoint', tags },
  })
  .patch(
    '/v1/webhook-endpoints/:id',
    ({ env, params, body }) => endpoints.updateWebhookEndpoint(env, params.id, body),
    {
      params: EndpointIdParams,
      body: UpdateWebhookEndpointBody,
      response: { 200: WebhookEndpointResource },
      detail: { summary: 'Update, disable or re-enable a webhook endpoint', tags },
    },
  )
  .delete('/v1/webhook-endpoints/:id', ({ env, params }) => endpoints.deleteWebhookEndpoint(env, params.id), {
    params: EndpointIdParams,
    response: { 200: DeletedWebhookEndpoint },
    detail: { summary: 'Delete a webhook endpoint and its delivery log', tags },
  })
  .post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    ({ env, params }) => endpoints.rotateWebhookSecret(env, params.id),
    {
      params: EndpointIdParams,
      response: { 200: WebhookEndpointWithSecret },
      detail: { summary: 'Replace the signing secret (the old one stops signing at once)', tags },
    },
  )
  .get(
    '/v1/webhook-endpoints/:id/deliveries',
    ({ env, params, query }) => listDeliveries(env, params.id, query),
    {
      params: EndpointIdParams,
      query: ListDeliveriesQuery,
      response: { 200: Paginated(WebhookDeliveryResource) },
      detail: { summary: 'Delivery log of an endpoint, newest first, with every attempt', tags },
    },
  )
  .post(
    '/v1/webhook-endpoints/:id/deliveries/:delivery_id/replay',
    ({ env, params }) => replayDelivery(env, params.id, params.delivery_id),
    {
      params: DeliveryParams,
      response: { 200: WebhookDeliveryResource },
      detail: { summary: 'Send one delivery again, now, with a fresh retry schedule', tags },
    },
  )
