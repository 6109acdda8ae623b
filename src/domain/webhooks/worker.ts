import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import { unseal } from '../../crypto/seal'
import { webhookHeaders } from '../../crypto/webhook-signature'
import { withTx } from '../../db/tx'
import type { EnvJob } from '../../jobs/scheduler'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import { eventsByIds } from '../events/service'
import { WEBHOOK_JOB } from './fanout'
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from './schema'
import { postJson, type SendResult } from './send'
import { secretAad } from './service'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/** Wait after the n-th failed attempt (Svix's schedule); the attempt after the last one is final. */
export const RETRY_DELAYS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1
/** An endpoint with failures and no success for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * HOUR
export const MAX_RESPONSE_BYTES = 64 * 1024
/** Deliveries claimed per run, and sent at once. */
const BATCH = 50
const CONCURRENCY = 10

export interface WorkerOptions {
  timeoutMs: number
  /** Told of every delivery attempt's outcome (the metrics' delivery failures). */
  onAttempt?: (ok: boolean) => void
}

/**
 * Deliveries this process is sending right now (`env/delivery`). A claim expires in the
 * database so that a crashed process's deliveries are taken over; this set keeps a live
 * process from taking over its own, whatever the (test) clock says.
 */
const inFlight = new Set<string>()

interface Claim {
  key: string
  deliveryId: string
  endpointId: string
  url: string
  secret: string
  body: string
}

/** Marks due deliveries as being sent, in one transaction, before any request goes out. */
function claimDue(ctx: EnvContext, opts: WorkerOptions): Claim[] {
  const now = ctx.clock.now()
  const d = webhookDeliveries
  // Every tick asks every env: answer "nothing due" from the index, without the write lock.
  const anyDue = ctx.prepared('webhooks.anyDue', (db) =>
    db
      .select({ id: d.id })
      .from(d)
      .where(lte(d.nextAttemptAt, sql.placeholder('now')))
      .limit(1)
      .prepare(),
  )
  if (!anyDue.get({ now })) return []
  const claims = withTx(ctx, (tx) => {
    const due = tx
      .select({
        id: d.id,
        endpointId: d.endpointId,
        attemptCount: d.attemptCount,
        url: webhookEndpoints.url,
        secret: webhookEndpoints.secret,
        eventId: d.eventId,
      })
      .from(d)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, d.endpointId))
      .where(
        and(
          lte(d.nextAttemptAt, now),
          inArray(d.status, ['pending', 'sending']),
          eq(webhookEndpoints.disabled, false),
        ),
      )
      .orderBy(asc(d.nextAttemptAt), asc(d.id))
      .limit(BATCH + inFlight.size)
      .all()
      .filter((r) => !inFlight.has(`${ctx.id}/${r.id}`))
      .slice(0, BATCH)
    const eventOf = new Map(eventsByIds(tx, [...new Set(due.map((r) => r.eventId))]).map((e) => [e.id, e]))
    const claims: Claim[] = []
    for (const r of due) {
      const event = eventOf.get(r.eventId)
      if (!event) continue // deleted with its deliveries (ON DELETE CASCADE); cannot happen mid-transaction
      tx.update(d)
        .set({
          status: 'sending',
          attemptCount: r.attemptCount + 1,
          // Past this, another process may assume we crashed and take the delivery over.
          nextAttemptAt: now + opts.timeoutMs + MINUTE,
          lastAttemptAt: now,
          updatedAt: now,
        })
        .where(eq(d.id, r.id))
        .run()
      claims.push({
        key: `${ctx.id}/${r.id}`,
        deliveryId: r.id,
        endpointId: r.endpointId,
        url: r.url,
        secret: unseal(ctx.dataKey, r.secret, secretAad(r.endpointId)),
        body: JSON.stringify({
          type: event.type,
          object: 'event',
          data: event.payload,
          timestamp: event.createdAt,
          instance_id: ctx.id,
        }),
      })
    }
    return claims
  })
  for (const c of claims) inFlight.add(c.key)
  return claims
}

/** Writes the attempt and moves the delivery (and its endpoint's health) on. */
function record(ctx: EnvContext, claim: Claim, result: SendResult, onAttempt?: (ok: boolean) => void) {
  const now = ctx.clock.now()
  const ok = result.error === null
  const disabled = withTx(ctx, (tx) => {
    const d = tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, claim.deliveryId)).get()
    if (d?.status !== 'sending') return false // endpoint deleted meanwhile
    tx.insert(webhookAttempts)
      .values({
        id: newId('webhookAttempt'),
        deliveryId: d.id,
        url: claim.url,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        error: result.error,
        createdAt: now,
      })
      .run()
    const final = !ok && (d.attemptCount >= MAX_ATTEMPTS || result.abort)
    tx.update(webhookDeliveries)
      .set(
        ok
          ? { status: 'succeeded', nextAttemptAt: null, succeededAt: now, updatedAt: now }
          : final
            ? { status: 'failed', nextAttemptAt: null, updatedAt: now }
            : {
                status: 'pending',
                nextAttemptAt: now + RETRY_DELAYS_MS[Math.max(0, d.attemptCount - 1)]!,
                updatedAt: now,
              },
      )
      .where(eq(webhookDeliveries.id, d.id))
      .run()
    const endpoint = tx
      .select({ failingSince: webhookEndpoints.failingSince, disabled: webhookEndpoints.disabled })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, claim.endpointId))
      .get()
    if (!endpoint) return false
    if (ok) {
      if (endpoint.failingSince !== null)
        tx.update(webhookEndpoints)
          .set({ failingSince: null })
          .where(eq(webhookEndpoints.id, claim.endpointId))
          .run()
    } else if (endpoint.failingSince === null) {
      tx.update(webhookEndpoints)
        .set({ failingSince: now })
        .where(eq(webhookEndpoints.id, claim.endpointId))
        .run()
    } else if (!endpoint.disabled && now - endpoint.failingSince >= DISABLE_AFTER_MS) {
      tx.update(webhookEndpoints)
        .set({ disabled: true, disabledReason: 'failing', updatedAt: now })
        .where(eq(webhookEndpoints.id, claim.endpointId))
        .run()
      return true
    }
    return false
  })
  onAttempt?.(ok)
  if (!ok) ctx.log.info({ delivery_id: claim.deliveryId, error: result.error }, 'webhook attempt failed')
  if (disabled) {
    // New events must stop fanning out to it.
    ctx.invalidate()
    ctx.log.warn({ webhook_endpoint_id: claim.endpointId }, 'webhook endpoint disabled: failing for 5 days')
  }
}

async function attempt(ctx: EnvContext, claim: Claim, opts: WorkerOptions) {
  try {
    // The signature timestamp is wall-clock time: receivers compare it with their own clock.
    const headers = webhookHeaders(claim.secret, claim.deliveryId, Math.floor(Date.now() / 1000), claim.body)
    const result = await postJson(claim.url, claim.body, headers, {
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      publicOnly: ctx.type === 'production',
    })
    record(ctx, claim, result, opts.onAttempt)
  } finally {
    inFlight.delete(claim.key)
  }
}

/** Sends every due delivery of the env; returns how many were attempted. */
export async function deliverDue(ctx: EnvContext, opts: WorkerOptions): Promise<number> {
  let total = 0
  for (;;) {
    const claims = claimDue(ctx, opts)
    total += claims.length
    const queue = [...claims]
    const lanes = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await attempt(ctx, c, opts)
    })
    await Promise.all(lanes)
    if (claims.length < BATCH) return total
  }
}

export const webhookDeliveryJob = (opts: WorkerOptions): EnvJob => ({
  name: WEBHOOK_JOB,
  run: async (ctx) => {
    await deliverDue(ctx, opts)
  },
})
