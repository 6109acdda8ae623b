import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Every outgoing email and SMS. In production envs, bodies carrying codes are dropped once sent. */
export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    channel: text('channel', { enum: ['email', 'sms'] }).notNull(),
    template: text('template').notNull(),
    to: text('to').notNull(),
    from: text('from'),
    subject: text('subject'),
    body: text('body'),
    status: text('status', { enum: ['queued', 'sent', 'failed', 'not_delivered', 'test_mode'] }).notNull(),
    deliveredByUs: integer('delivered_by_us', { mode: 'boolean' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    nextAttemptAt: integer('next_attempt_at'),
    sentAt: integer('sent_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('messages_created').on(t.createdAt, t.id),
    index('messages_retry').on(t.status, t.nextAttemptAt),
  ],
)

export const smsTemplates = sqliteTable('sms_templates', {
  slug: text('slug').primaryKey(),
  body: text('body').notNull(),
  deliveredByUs: integer('delivered_by_us', { mode: 'boolean' }).notNull(),
  fromNumberOverride: text('from_number_override'),
  updatedAt: integer('updated_at').notNull(),
})

export type MessageRow = typeof messages.$inferSelect
export type SmsTemplateRow = typeof smsTemplates.$inferSelect
