import { eq, sql } from 'drizzle-orm'
import { seal } from '../../crypto/seal'
import { newWebhookSecret } from '../../crypto/webhook-signature'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { AppError, assertThat, formError, formParamInvalid, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import { literalRefusal } from '../../lib/private-network'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import type {
  CreateWebhookEndpointBody,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
  WebhookEndpointResource,
  WebhookEndpointWithSecret,
} from './model'
import { type WebhookEndpointRow, webhookEndpoints } from './schema'
import { toWebhookEndpointResource } from './serialize'

/** Every event fans out to every endpoint in its transaction: keep the list short. */
export const MAX_ENDPOINTS = 50

export const secretAad = (id: string) => `webhook_endpoints.secret:${id}`

/**
 * An absolute http(s) URL without credentials. Production envs refuse private and loopback
 * hosts that are visible without DNS; names are checked again, resolved, at every attempt.
 */
export function checkEndpointUrl(ctx: EnvContext, raw: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw formParamInvalid('url', 'url must be an absolute http or https URL.')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw formParamInvalid('url', 'url must be an absolute http or https URL.')
  if (url.username || url.password) throw formParamInvalid('url', 'url must not contain credentials.')
  if (ctx.type === 'production') {
    const refusal = literalRefusal(url.hostname)
    if (refusal) {
      throw formError(
        'form_param_value_invalid',
        'url',
        'is not allowed',
        `Production environments do not send webhooks to private or loopback addresses: ${refusal}.`,
      )
    }
  }
  return url.href
}

export const loadEndpoint = (db: EnvContext['db'] | EnvTx, id: string) =>
  isId('webhookEndpoint', id)
    ? db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get()
    : undefined

export function getWebhookEndpoint(ctx: EnvContext, id: string): WebhookEndpointResource {
  const row = loadEndpoint(ctx.db, id)
  assertThat(row, () => notFound('webhook endpoint'))
  return toWebhookEndpointResource(row)
}

/** Newest first. */
export function listWebhookEndpoints(
  ctx: EnvContext,
  q: ListWebhookEndpointsQuery,
): Page<WebhookEndpointResource> {
  const page = tablePage(ctx, webhookEndpoints, undefined, q)
  return pageOf(page.rows.map(toWebhookEndpointResource), page.next_cursor, page.total)
}

const countEndpoints = (db: EnvContext['db'] | EnvTx) =>
  db.select({ n: sql<number>`count(*)` }).from(webhookEndpoints).get()?.n ?? 0

/** The only answer that shows the secret, besides rotate-secret. */
export function createWebhookEndpoint(
  ctx: EnvContext,
  input: CreateWebhookEndpointBody,
): WebhookEndpointWithSecret {
  const url = checkEndpointUrl(ctx, input.url)
  const id = newId('webhookEndpoint')
  const secret = newWebhookSecret()
  const now = ctx.clock.now()
  const row = withTx(ctx, (tx) => {
    if (countEndpoints(tx) >= MAX_ENDPOINTS) {
      throw new AppError(422, [
        {
          code: 'webhook_endpoint_quota_exceeded',
          message: 'too many webhook endpoints',
          long_message: `An environment can have at most ${MAX_ENDPOINTS} webhook endpoints.`,
        },
      ])
    }
    tx.insert(webhookEndpoints)
      .values({
        id,
        url,
        description: input.description ?? null,
        eventTypes: input.event_types ?? [],
        secret: seal(ctx.dataKey, secret, secretAad(id)),
        disabled: false,
        disabledReason: null,
        failingSince: null,
        createdAt: now,
        updatedAt: now,
      })
      .run()
    return loadEndpoint(tx, id)!
  })
  ctx.invalidate()
  return { ...toWebhookEndpointResource(row), secret }
}

export function updateWebhookEndpoint(
  ctx: EnvContext,
  id: string,
  input: UpdateWebhookEndpointBody,
): WebhookEndpointResource {
  const url = input.url === undefined ? undefined : checkEndpointUrl(ctx, input.url)
  const row = withTx(ctx, (tx) => {
    const current = loadEndpoint(tx, id)
    assertThat(current, () => notFound('webhook endpoint'))
    const set: Partial<WebhookEndpointRow> = { updatedAt: ctx.clock.now() }
    if (url !== undefined && url !== current.url) {
      set.url = url
      set.failingSince = null
    }
    if (input.description !== undefined) set.description = input.description
    if (input.event_types !== undefined) set.eventTypes = input.event_types
    if (input.disabled === true && !current.disabled) {
      set.disabled = true
      set.disabledReason = 'manual'
    } else if (input.disabled === false && current.disabled) {
      set.disabled = false
      set.disabledReason = null
      set.failingSince = null
    }
    tx.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).run()
    return loadEndpoint(tx, id)!
  })
  ctx.invalidate()
  return toWebhookEndpointResource(row)
}

/** A new secret signs from now on; the old one stops at once. Shown in this answer only. */
export function rotateWebhookSecret(ctx: EnvContext, id: string): WebhookEndpointWithSecret {
  const secret = newWebhookSecret()
  const row = withTx(ctx, (tx) => {
    assertThat(loadEndpoint(tx, id), () => notFound('webhook endpoint'))
    tx.update(webhookEndpoints)
      .set({ secret: seal(ctx.dataKey, secret, secretAad(id)), updatedAt: ctx.clock.now() })
      .where(eq(webhookEndpoints.id, id))
      .run()
    return loadEndpoint(tx, id)!
  })
  return { ...toWebhookEndpointResource(row), secret }
}

/** Hard delete, with its deliveries and their attempts. */
export function deleteWebhookEndpoint(ctx: EnvContext, id: string) {
  const deleted = withTx(ctx, (tx) => {
    assertThat(loadEndpoint(tx, id), () => notFound('webhook endpoint'))
    tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run()
    return { object: 'webhook_endpoint' as const, id, deleted: true as const }
  })
  ctx.invalidate()
  return deleted
}
