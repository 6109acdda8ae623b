import { t } from 'elysia'
import { envelope, withActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { AnswerChallengeBody, ChallengeResource } from '../challenges/model'
import { Envelope, FapiSessionResource, FapiUserResource } from '../clients/model'
import { EmailAddressResource, PhoneNumberResource } from '../users/model'
import * as me from './service'

const Id = t.Object({ id: t.String({ maxLength: 64 }) })
const Cid = t.Object({ id: t.String({ maxLength: 64 }), cid: t.String({ maxLength: 64 }) })
const Deleted = (object: string) =>
  t.Object({ object: t.Literal(object), id: t.String(), deleted: t.Literal(true) })
const user = ['Signed-in user']
const emails = ['Signed-in user: email addresses']
const phones = ['Signed-in user: phone numbers']

export const meFapi = capabilityRoutes('fapi:me')
  .use(withActor)
  .get('/v1/me', ({ env, actor }) => envelope(env, actor, me.getMe(env, actor, actor.sessionId)), {
    response: { 200: Envelope(FapiUserResource) },
    detail: { summary: 'The signed-in user', tags: user },
  })
  .patch(
    '/v1/me',
    ({ env, actor, body }) => envelope(env, actor, me.updateMe(env, actor, actor.sessionId, body)),
    {
      body: t.Object({
        first_name: t.Optional(t.Nullable(t.String({ maxLength: 256 }))),
        last_name: t.Optional(t.Nullable(t.String({ maxLength: 256 }))),
        username: t.Optional(t.Nullable(t.String({ maxLength: 64 }))),
        unsafe_metadata: t.Optional(t.Record(t.String(), t.Unknown())),
        primary_email_address_id: t.Optional(t.String({ maxLength: 64 })),
        primary_phone_number_id: t.Optional(t.String({ maxLength: 64 })),
      }),
      response: { 200: Envelope(FapiUserResource) },
      detail: { summary: 'Update the signed-in user', tags: user },
    },
  )
  .delete('/v1/me', ({ env, actor }) => envelope(env, actor, me.deleteMe(env, actor, actor.sessionId)), {
    response: { 200: Envelope(Deleted('user')) },
    detail: { summary: 'Delete the signed-in user', tags: user },
  })
  .post(
    '/v1/me/change-password',
    ({ env, actor, body }) => envelope(env, actor, me.changePassword(env, actor, actor.sessionId, body)),
    {
      body: t.Object({
        current_password: t.Optional(t.String({ maxLength: 256 })),
        new_password: t.String({ maxLength: 256 }),
        sign_out_of_other_sessions: t.Optional(t.BooleanString()),
      }),
      response: { 200: Envelope(FapiUserResource) },
      detail: { summary: 'Change the password', tags: user },
    },
  )
  .get(
    '/v1/me/sessions',
    ({ env, actor }) => envelope(env, actor, me.mySessions(env, actor, actor.sessionId)),
    {
      response: { 200: Envelope(t.Array(FapiSessionResource)) },
      detail: { summary: "The user's live sessions on every device", tags: user },
    },
  )
  .post(
    '/v1/me/sessions/:id/revoke',
    ({ env, actor, params }) =>
      envelope(env, actor, me.revokeMySession(env, actor, actor.sessionId, params.id)),
    {
      params: Id,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: 'Revoke one of the user’s sessions', tags: user },
    },
  )
  // email addresses
  .get(
    '/v1/me/email-addresses',
    ({ env, actor }) => envelope(env, actor, me.listMyEmails(env, actor, actor.sessionId)),
    {
      response: { 200: Envelope(t.Array(EmailAddressResource)) },
      detail: { summary: 'List email addresses', tags: emails },
    },
  )
  .post(
    '/v1/me/email-addresses',
    ({ env, actor, body }) => envelope(env, actor, me.addMyEmail(env, actor, actor.sessionId, body)),
    {
      body: t.Object({ email_address: t.String({ maxLength: 320 }) }),
      response: { 200: Envelope(EmailAddressResource) },
      detail: { summary: 'Add an email address (unverified)', tags: emails },
    },
  )
  .get(
    '/v1/me/email-addresses/:id',
    ({ env, actor, params }) => envelope(env, actor, me.getMyEmail(env, actor, actor.sessionId, params.id)),
    {
      params: Id,
      response: { 200: Envelope(EmailAddressResource) },
      detail: { summary: 'Get an email address', tags: emails },
    },
  )
  .delete(
    '/v1/me/email-addresses/:id',
    ({ env, actor, params }) =>
      envelope(env, actor, me.deleteMyEmail(env, actor, actor.sessionId, params.id)),
    {
      params: Id,
      response: { 200: Envelope(Deleted('email_address')) },
      detail: { summary: 'Delete an email address', tags: emails },
    },
  )
  .post(
    '/v1/me/email-addresses/:id/set-primary',
    ({ env, actor, params }) =>
      envelope(env, actor, me.updateMe(env, actor, actor.sessionId, { primary_email_address_id: params.id })),
    {
      params: Id,
      response: { 200: Envelope(FapiUserResource) },
      detail: { summary: 'Make a verified address primary', tags: emails },
    },
  )
  .post(
    '/v1/me/email-addresses/:id/challenges',
    ({ env, actor, params, body }) =>
      envelope(env, actor, me.issueEmailChallenge(env, actor, actor.sessionId, params.id, body)),
    {
      params: Id,
      body: t.Object({
        strategy: t.String({ maxLength: 64 }),
        redirect_url: t.Optional(t.String({ maxLength: 2048 })),
      }),
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Issue an email_code or email_link verification challenge', tags: emails },
    },
  )
  .post(
    '/v1/me/email-addresses/:id/challenges/:cid/answer',
    ({ env, actor, params, body }) =>
      envelope(
        env,
        actor,
        me.answerEmailChallenge(env, actor, actor.sessionId, params.id, params.cid, body ?? {}),
      ),
    {
      params: Cid,
      body: t.Optional(AnswerChallengeBody),
      response: { 200: Envelope(EmailAddressResource) },
      detail: { summary: 'Answer with the code (empty body for email_link)', tags: emails },
    },
  )
  .get(
    '/v1/me/email-addresses/:id/challenges/:cid',
    ({ env, actor, params }) =>
      envelope(env, actor, me.getEmailChallenge(env, actor, actor.sessionId, params.id, params.cid)),
    {
      params: Cid,
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Poll challenge status', tags: emails },
    },
  )
  // phone numbers
  .get(
    '/v1/me/phone-numbers',
    ({ env, actor }) => envelope(env, actor, me.listMyPhones(env, actor, actor.sessionId)),
    {
      response: { 200: Envelope(t.Array(PhoneNumberResource)) },
      detail: { summary: 'List phone numbers', tags: phones },
    },
  )
  .post(
    '/v1/me/phone-numbers',
    ({ env, actor, body }) => envelope(env, actor, me.addMyPhone(env, actor, actor.sessionId, body)),
    {
      body: t.Object({ phone_number: t.String({ maxLength: 32 }) }),
      response: { 200: Envelope(PhoneNumberResource) },
      detail: { summary: 'Add a phone number (always unverified)', tags: phones },
    },
  )
  .get(
    '/v1/me/phone-numbers/:id',
    ({ env, actor, params }) => envelope(env, actor, me.getMyPhone(env, actor, actor.sessionId, params.id)),
    {
      params: Id,
      response: { 200: Envelope(PhoneNumberResource) },
      detail: { summary: 'Get a phone number', tags: phones },
    },
  )
  .patch(
    '/v1/me/phone-numbers/:id',
    ({ env, actor, params, body }) =>
      envelope(env, actor, me.updateMyPhone(env, actor, actor.sessionId, params.id, body)),
    {
      params: Id,
      body: t.Object({
        is_primary: t.Optional(t.BooleanString()),
        reserved_for_second_factor: t.Optional(t.BooleanString()),
        default_second_factor: t.Optional(t.BooleanString()),
      }),
      response: { 200: Envelope(PhoneNumberResource) },
      detail: {
        summary: 'Toggle is_primary, reserved_for_second_factor, default_second_factor',
        tags: phones,
      },
    },
  )
  .delete(
    '/v1/me/phone-numbers/:id',
    ({ env, actor, params }) =>
      envelope(env, actor, me.deleteMyPhone(env, actor, actor.sessionId, params.id)),
    {
      params: Id,
      response: { 200: Envelope(Deleted('phone_number')) },
      detail: { summary: 'Remove (refused while reserved for second factor)', tags: phones },
    },
  )
  .post(
    '/v1/me/phone-numbers/:id/challenges',
    ({ env, actor, params, body }) =>
      envelope(env, actor, me.issuePhoneChallenge(env, actor, actor.sessionId, params.id, body ?? {})),
    {
      params: Id,
      body: t.Optional(t.Object({ strategy: t.Optional(t.String({ maxLength: 64 })) })),
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Issue a phone_code verification challenge', tags: phones },
    },
  )
  .post(
    '/v1/me/phone-numbers/:id/challenges/:cid/answer',
    ({ env, actor, params, body }) =>
      envelope(
        env,
        actor,
        me.answerPhoneChallenge(env, actor, actor.sessionId, params.id, params.cid, body ?? {}),
      ),
    {
      params: Cid,
      body: t.Optional(AnswerChallengeBody),
      response: { 200: Envelope(PhoneNumberResource) },
      detail: { summary: 'Answer with the 6-digit code', tags: phones },
    },
  )
  .get(
    '/v1/me/phone-numbers/:id/challenges/:cid',
    ({ env, actor, params }) =>
      envelope(env, actor, me.getPhoneChallenge(env, actor, actor.sessionId, params.id, params.cid)),
    {
      params: Cid,
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Poll challenge status', tags: phones },
    },
  )
