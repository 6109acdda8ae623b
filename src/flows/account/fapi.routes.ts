import { t } from 'elysia'
import { AnswerChallengeBody, ChallengeResource } from '../../domain/challenges/model'
import type { ContactKind } from '../../domain/users/contacts'
import { EmailAddressResource, PhoneNumberResource } from '../../domain/users/model'
import { envelope } from '../../http/fapi/actor'
import { withSignedIn } from '../../http/fapi/signed-in'
import { challengeRoutes } from '../../http/shared/challenge-routes'
import { Paginated, PaginationQuery } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope, FapiSessionResource, FapiUserResource } from '../client/model'
import * as contacts from './identifiers'
import * as profile from './profile'
import { requireSignedIn } from './signed-in'

const Id = t.Object({ id: t.String({ maxLength: 64 }) })
const Deleted = (object: string) =>
  t.Object({ object: t.Literal(object), id: t.String(), deleted: t.Literal(true) })
const user = ['Signed-in user']

export const meFapi = capabilityRoutes('fapi:me')
  .use(withSignedIn)
  .get('/v1/me', ({ env, actor, me }) => envelope(env, actor, profile.getMe(env, me)), {
    response: { 200: Envelope(FapiUserResource) },
    detail: { summary: 'The signed-in user', tags: user },
  })
  .patch('/v1/me', ({ env, actor, me, body }) => envelope(env, actor, profile.updateMe(env, me, body)), {
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
  })
  .delete('/v1/me', ({ env, actor, me }) => envelope(env, actor, profile.deleteMe(env, me)), {
    response: { 200: Envelope(Deleted('user')) },
    detail: { summary: 'Delete the signed-in user', tags: user },
  })
  .post(
    '/v1/me/change-password',
    ({ env, actor, me, body }) => envelope(env, actor, profile.changePassword(env, me, body)),
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
    ({ env, actor, me, query }) => envelope(env, actor, profile.mySessions(env, me, query)),
    {
      query: t.Object(PaginationQuery),
      response: { 200: Envelope(Paginated(FapiSessionResource)) },
      detail: { summary: "The user's live sessions on every device", tags: user },
    },
  )
  .post(
    '/v1/me/sessions/:id/revoke',
    ({ env, actor, me, params }) => envelope(env, actor, profile.revokeMySession(env, me, params.id)),
    {
      params: Id,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: 'Revoke one of the user’s sessions', tags: user },
    },
  )

/** What differs between the email and phone routes: paths, bodies, wire shapes, wording. */
const KINDS = {
  email_address: {
    path: '/v1/me/email-addresses',
    resource: EmailAddressResource,
    tags: ['Signed-in user: email addresses'],
    addBody: t.Object({ email_address: t.String({ maxLength: 320 }) }),
    value: (body: Record<string, string>) => body.email_address!,
    issueBody: t.Object({
      strategy: t.String({ maxLength: 64 }),
      redirect_url: t.Optional(t.String({ maxLength: 2048 })),
    }),
    words: {
      list: 'List email addresses',
      add: 'Add an email address (unverified)',
      get: 'Get an email address',
      delete: 'Delete an email address',
      issue: 'Issue an email_code or email_link verification challenge',
      answer: 'Answer with the code (empty body for email_link)',
    },
  },
  phone_number: {
    path: '/v1/me/phone-numbers',
    resource: PhoneNumberResource,
    tags: ['Signed-in user: phone numbers'],
    addBody: t.Object({ phone_number: t.String({ maxLength: 32 }) }),
    value: (body: Record<string, string>) => body.phone_number!,
    issueBody: t.Optional(t.Object({ strategy: t.Optional(t.String({ maxLength: 64 })) })),
    words: {
      list: 'List phone numbers',
      add: 'Add a phone number (always unverified)',
      get: 'Get a phone number',
      delete: 'Remove (refused while reserved for second factor)',
      issue: 'Issue a phone_code verification challenge',
      answer: 'Answer with the 6-digit code',
    },
  },
} as const

/** The routes both kinds share: list, add, get, delete and the challenge sub-resource. */
function contactRoutes(kind: ContactKind) {
  const k = KINDS[kind]
  return capabilityRoutes(`fapi:me:${kind}`)
    .use(withSignedIn)
    .get(k.path, ({ env, actor, me }) => envelope(env, actor, contacts.listContacts(env, me, kind)), {
      response: { 200: Envelope(t.Array(k.resource)) },
      detail: { summary: k.words.list, tags: [...k.tags] },
    })
    .post(
      k.path,
      ({ env, actor, me, body }) =>
        envelope(env, actor, contacts.addMyContact(env, me, kind, k.value(body as Record<string, string>))),
      {
        body: k.addBody,
        response: { 200: Envelope(k.resource) },
        detail: { summary: k.words.add, tags: [...k.tags] },
      },
    )
    .get(
      `${k.path}/:id`,
      ({ env, actor, me, params }) => envelope(env, actor, contacts.getContact(env, me, kind, params.id)),
      {
        params: Id,
        response: { 200: Envelope(k.resource) },
        detail: { summary: k.words.get, tags: [...k.tags] },
      },
    )
    .delete(
      `${k.path}/:id`,
      ({ env, actor, me, params }) =>
        envelope(env, actor, contacts.deleteMyContact(env, me, kind, params.id)),
      {
        params: Id,
        response: { 200: Envelope(Deleted(kind)) },
        detail: { summary: k.words.delete, tags: [...k.tags] },
      },
    )
}

/** The signed-in user of a challenge route (which resolves its own actor). */
const signedIn = (
  env: Parameters<typeof requireSignedIn>[0],
  actor: Parameters<typeof requireSignedIn>[1] | null,
) => requireSignedIn(env, actor!, actor!.sessionId)

const contactChallenges = (kind: ContactKind) =>
  challengeRoutes({
    name: `fapi:me:${kind}:challenges`,
    parent: `${KINDS[kind].path}/:id`,
    params: Id,
    surface: 'fapi',
    tags: [...KINDS[kind].tags],
    issueBody: KINDS[kind].issueBody,
    answerBody: AnswerChallengeBody,
    challenge: ChallengeResource,
    answered: KINDS[kind].resource,
    summaries: {
      issue: KINDS[kind].words.issue,
      answer: KINDS[kind].words.answer,
      get: 'Poll challenge status',
    },
    issue: (env, actor, params, body) =>
      contacts.issueContactChallenge(env, actor!, signedIn(env, actor), kind, params.id!, body ?? {}),
    answer: (env, actor, params, cid, body) =>
      contacts.answerContactChallenge(env, signedIn(env, actor), kind, params.id!, cid, body),
    get: (env, actor, params, cid) =>
      contacts.getContactChallenge(env, signedIn(env, actor), kind, params.id!, cid),
  })

export const emailAddressesFapi = capabilityRoutes('fapi:me:email-addresses')
  .use(contactRoutes('email_address'))
  .use(withSignedIn)
  .post(
    '/v1/me/email-addresses/:id/set-primary',
    ({ env, actor, me, params }) =>
      envelope(env, actor, profile.updateMe(env, me, { primary_email_address_id: params.id })),
    {
      params: Id,
      response: { 200: Envelope(FapiUserResource) },
      detail: { summary: 'Make a verified address primary', tags: [...KINDS.email_address.tags] },
    },
  )
  .use(contactChallenges('email_address'))

export const phoneNumbersFapi = capabilityRoutes('fapi:me:phone-numbers')
  .use(contactRoutes('phone_number'))
  .use(withSignedIn)
  .patch(
    '/v1/me/phone-numbers/:id',
    ({ env, actor, me, params, body }) =>
      envelope(env, actor, contacts.updateMyPhone(env, me, params.id, body)),
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
        tags: [...KINDS.phone_number.tags],
      },
    },
  )
  .use(contactChallenges('phone_number'))
