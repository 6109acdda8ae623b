import { t } from 'elysia'
import { Paginated, PaginationQuery } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import * as messages from './service'

const MessageResource = t.Object({
  object: t.Literal('message'),
  id: t.String(),
  channel: t.String(),
  template: t.String(),
  to: t.String(),
  from: t.Nullable(t.String()),
  subject: t.Nullable(t.String()),
  body: t.Nullable(t.String()),
  status: t.String(),
  delivered_by_us: t.Boolean(),
  attempts: t.Integer(),
  error: t.Nullable(t.String()),
  sent_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

const SmsTemplateResource = t.Object({
  object: t.Literal('sms_template'),
  id: t.String(),
  slug: t.String(),
  name: t.String(),
  body: t.String(),
  delivered_by_us: t.Boolean(),
  from_number_override: t.Nullable(t.String()),
  available_variables: t.Array(t.String()),
  required_variables: t.Array(t.String()),
  can_revert: t.Boolean(),
  updated_at: t.Nullable(t.Integer()),
})

const Slug = t.Object({ slug: t.String({ maxLength: 64 }) })
const tags = ['Messages']

export const messagesBapi = capabilityRoutes('bapi:messages')
  .get('/v1/messages', ({ env, query }) => messages.listMessages(env, query), {
    query: t.Object(
      { ...PaginationQuery, to: t.Optional(t.String({ maxLength: 320 })) },
      { additionalProperties: false },
    ),
    response: { 200: Paginated(MessageResource) },
    detail: { summary: 'Outgoing emails and SMS, newest first', tags },
  })
  .get('/v1/sms-templates', ({ env }) => ({ data: messages.listSmsTemplates(env) }), {
    response: { 200: t.Object({ data: t.Array(SmsTemplateResource) }) },
    detail: { summary: 'The three SMS templates in slug order', tags },
  })
  .get('/v1/sms-templates/:slug', ({ env, params }) => messages.getSmsTemplate(env, params.slug), {
    params: Slug,
    response: { 200: SmsTemplateResource },
    detail: { summary: 'Get an SMS template', tags },
  })
  .patch(
    '/v1/sms-templates/:slug',
    ({ env, params, body }) => messages.updateSmsTemplate(env, params.slug, body),
    {
      params: Slug,
      body: t.Object(
        {
          body: t.Optional(t.String({ minLength: 1, maxLength: 1600 })),
          delivered_by_us: t.Optional(t.Boolean()),
          from_number_override: t.Optional(t.Nullable(t.String({ pattern: '^\\+[1-9]\\d{6,14}$' }))),
        },
        { additionalProperties: false },
      ),
      response: { 200: SmsTemplateResource },
      detail: { summary: 'Patch body, delivered_by_us or from_number_override', tags },
    },
  )
  .post('/v1/sms-templates/:slug/revert', ({ env, params }) => messages.revertSmsTemplate(env, params.slug), {
    params: Slug,
    response: { 200: SmsTemplateResource },
    detail: { summary: 'Restore the platform default', tags },
  })
