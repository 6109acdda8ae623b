import { and, asc, eq, lte } from 'drizzle-orm'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { formError, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { type MessageRow, messages, type SmsTemplateRow, smsTemplates } from './schema'
import {
  EMAIL_TEMPLATES,
  type EmailTemplate,
  render,
  SMS_TEMPLATES,
  SMS_VARIABLES,
  type SmsTemplate,
} from './templates'

/** Development envs: these identifiers verify with TEST_CODE and nothing is sent. */
export const TEST_CODE = '424242'
const TEST_PHONE = /^\+1\d{3}55501\d{2}$/
export const isTestIdentifier = (ctx: EnvContext, value: string) =>
  ctx.type === 'development' && (value.includes('+authn_test') || TEST_PHONE.test(value))

/** Delays before the 2nd and 3rd delivery attempts. */
const RETRY_DELAYS_MS = [30_000, 5 * 60_000]

export interface QueuedMessage {
  channel: 'email' | 'sms'
  template: EmailTemplate | SmsTemplate
  to: string
  vars: Record<string, string>
  /** The body carries a code or link: it is not kept after delivery in production envs. */
  secret: boolean
}

function smsTemplate(
  tx: Pick<EnvTx, 'select'>,
  slug: SmsTemplate,
): { body: string; deliveredByUs: boolean; from: string | null } {
  const row = tx.select().from(smsTemplates).where(eq(smsTemplates.slug, slug)).get()
  return {
    body: row?.body ?? SMS_TEMPLATES[slug].body,
    deliveredByUs: row?.deliveredByUs ?? true,
    from: row?.fromNumberOverride ?? null,
  }
}

/**
 * Records an outgoing message in the caller's transaction and delivers it once that commits.
 * Test identifiers of development envs get a `test_mode` row and nothing is sent; when the env
 * delivers its own messages, an `email.created` / `sms.created` event carries the message.
 */
export function queueMessage(
  tx: EnvTx,
  ctx: EnvContext,
  after: (e: () => unknown) => void,
  m: QueuedMessage,
): MessageRow {
  const settings = ctx.settings()
  const now = ctx.clock.now()
  const vars = { app_name: settings.application_name, ...m.vars }
  let subject: string | null = null
  let body: string
  let from: string | null
  let deliveredByUs: boolean
  if (m.channel === 'email') {
    const t = EMAIL_TEMPLATES[m.template as EmailTemplate]
    subject = render(t.subject, vars)
    body = render(t.body, vars)
    from = `${settings.email.from_name} <${settings.email.from_address}>`
    deliveredByUs = settings.email.delivered_by_us
  } else {
    const t = smsTemplate(tx, m.template as SmsTemplate)
    body = render(t.body, vars)
    from = t.from ?? settings.sms.from_number
    deliveredByUs = t.deliveredByUs
  }
  const test = isTestIdentifier(ctx, m.to)
  const row: MessageRow = {
    id: newId('message'),
    channel: m.channel,
    template: m.template,
    to: m.to,
    from,
    subject,
    body: test || (!deliveredByUs && m.secret && ctx.type === 'production') ? null : body,
    status: test ? 'test_mode' : deliveredByUs ? 'queued' : 'not_delivered',
    deliveredByUs,
    attempts: 0,
    error: null,
    nextAttemptAt: test || !deliveredByUs ? null : now,
    sentAt: null,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(messages).values(row).run()
  if (!test && !deliveredByUs) {
    emit(
      tx,
      ctx,
      m.channel === 'email' ? 'email.created' : 'sms.created',
      m.channel === 'email'
        ? {
            object: 'email',
            id: row.id,
            slug: m.template,
            to_email_address: m.to,
            from_email_name: settings.email.from_name,
            subject,
            body,
            data: vars,
            status: row.status,
            delivered_by_us: false,
          }
        : {
            object: 'sms_message',
            id: row.id,
            slug: m.template,
            to_phone_number: m.to,
            from_phone_number: from,
            message: body,
            data: vars,
            status: row.status,
            delivered_by_us: false,
          },
    )
  }
  if (row.status === 'queued') after(() => deliverMessage(ctx, row.id, body))
  return row
}

/** One delivery attempt; failures are retried by the messages job. */
export async function deliverMessage(ctx: EnvContext, id: string, body?: string) {
  const row = ctx.db.select().from(messages).where(eq(messages.id, id)).get()
  if (row?.status !== 'queued') return
  const text = body ?? row.body
  let error: string | null = null
  try {
    if (text === null) throw new Error('the message body is gone')
    if (row.channel === 'email') {
      if (!ctx.delivery.email) throw new Error('no SMTP relay is configured (AUTHN_SMTP_URL)')
      await ctx.delivery.email({ from: row.from ?? '', to: row.to, subject: row.subject ?? '', text })
    } else {
      if (!ctx.delivery.sms) throw new Error('no SMS provider is configured (AUTHN_SMS_ACCOUNT_SID)')
      if (!row.from) throw new Error('no SMS sender number is configured (instance sms.from_number)')
      await ctx.delivery.sms({ from: row.from, to: row.to, body: text })
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
    ctx.log.warn({ message_id: id, channel: row.channel, error }, 'message delivery failed')
  }
  const now = ctx.clock.now()
  const attempts = row.attempts + 1
  const retryIn = error ? RETRY_DELAYS_MS[attempts - 1] : undefined
  const done = !error || retryIn === undefined
  const secretGone = done && ctx.type === 'production'
  ctx.db
    .update(messages)
    .set({
      status: error ? (retryIn === undefined ? 'failed' : 'queued') : 'sent',
      attempts,
      error,
      nextAttemptAt: retryIn === undefined ? null : now + retryIn,
      sentAt: error ? null : now,
      ...(secretGone ? { body: null } : {}),
      updatedAt: now,
    })
    .where(eq(messages.id, id))
    .run()
}

/** Job: retries queued messages whose next attempt is due. */
export async function retryDueMessages(ctx: EnvContext) {
  const due = ctx.db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.status, 'queued'), lte(messages.nextAttemptAt, ctx.clock.now())))
    .limit(50)
    .all()
  for (const m of due) await deliverMessage(ctx, m.id)
}

// ---- BAPI: messages log and SMS templates -------------------------------------------------

export const toMessageResource = (m: MessageRow) => ({
  object: 'message' as const,
  id: m.id,
  channel: m.channel,
  template: m.template,
  to: m.to,
  from: m.from,
  subject: m.subject,
  body: m.body,
  status: m.status,
  delivered_by_us: m.deliveredByUs,
  attempts: m.attempts,
  error: m.error,
  sent_at: m.sentAt,
  created_at: m.createdAt,
  updated_at: m.updatedAt,
})
export type MessageResource = ReturnType<typeof toMessageResource>

export function listMessages(
  ctx: EnvContext,
  q: { cursor?: string; limit?: number; to?: string },
): Page<MessageResource> {
  const page = tablePage(ctx, messages, q.to ? eq(messages.to, q.to) : undefined, q)
  return pageOf(page.rows.map(toMessageResource), page.next_cursor, page.total)
}

const SLUGS = Object.keys(SMS_TEMPLATES) as SmsTemplate[]
const isSlug = (s: string): s is SmsTemplate => (SLUGS as string[]).includes(s)

function toSmsTemplate(slug: SmsTemplate, row: SmsTemplateRow | undefined) {
  const base = SMS_TEMPLATES[slug]
  return {
    object: 'sms_template' as const,
    id: slug,
    slug,
    name: base.name,
    body: row?.body ?? base.body,
    delivered_by_us: row?.deliveredByUs ?? true,
    from_number_override: row?.fromNumberOverride ?? null,
    available_variables: [...SMS_VARIABLES],
    required_variables: [...base.required],
    can_revert: !!row,
    updated_at: row?.updatedAt ?? null,
  }
}
export type SmsTemplateResource = ReturnType<typeof toSmsTemplate>

export function listSmsTemplates(ctx: EnvContext): SmsTemplateResource[] {
  const rows = ctx.db.select().from(smsTemplates).orderBy(asc(smsTemplates.slug)).all()
  return [...SLUGS].sort().map((slug) =>
    toSmsTemplate(
      slug,
      rows.find((r) => r.slug === slug),
    ),
  )
}

export function getSmsTemplate(ctx: EnvContext, slug: string): SmsTemplateResource {
  if (!isSlug(slug)) throw notFound('SMS template')
  return toSmsTemplate(slug, ctx.db.select().from(smsTemplates).where(eq(smsTemplates.slug, slug)).get())
}

export function updateSmsTemplate(
  ctx: EnvContext,
  slug: string,
  patch: { body?: string; delivered_by_us?: boolean; from_number_override?: string | null },
): SmsTemplateResource {
  if (!isSlug(slug)) throw notFound('SMS template')
  const base = SMS_TEMPLATES[slug]
  if (patch.body !== undefined) {
    for (const v of base.required) {
      if (!patch.body.includes(`{{${v}}}`)) {
        throw formError(
          'form_param_value_invalid',
          'body',
          'is missing a variable',
          `The body must contain {{${v}}}.`,
        )
      }
    }
    const unknown = [...patch.body.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)]
      .map((m) => m[1]!)
      .find((v) => !(SMS_VARIABLES as readonly string[]).includes(v))
    if (unknown)
      throw formError(
        'form_param_value_invalid',
        'body',
        'uses an unknown variable',
        `{{${unknown}}} is not a variable of SMS templates.`,
      )
  }
  return withTx(ctx, (tx) => {
    const current = tx.select().from(smsTemplates).where(eq(smsTemplates.slug, slug)).get()
    const next: SmsTemplateRow = {
      slug,
      body: patch.body ?? current?.body ?? base.body,
      deliveredByUs: patch.delivered_by_us ?? current?.deliveredByUs ?? true,
      fromNumberOverride:
        patch.from_number_override === undefined
          ? (current?.fromNumberOverride ?? null)
          : patch.from_number_override,
      updatedAt: ctx.clock.now(),
    }
    tx.insert(smsTemplates).values(next).onConflictDoUpdate({ target: smsTemplates.slug, set: next }).run()
    const resource = toSmsTemplate(slug, next)
    emit(tx, ctx, 'smsTemplate.updated', resource)
    return resource
  })
}

export function revertSmsTemplate(ctx: EnvContext, slug: string): SmsTemplateResource {
  if (!isSlug(slug)) throw notFound('SMS template')
  return withTx(ctx, (tx) => {
    tx.delete(smsTemplates).where(eq(smsTemplates.slug, slug)).run()
    const resource = toSmsTemplate(slug, undefined)
    emit(tx, ctx, 'smsTemplate.updated', resource)
    return resource
  })
}
