import { t } from 'elysia'
import { envelope, withActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { AnswerChallengeBody, ChallengeResource, IssueChallengeBody } from '../challenges/model'
import { Envelope, SignInResource } from '../clients/model'
import * as signIns from './service'

const tags = ['Sign-ins']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })
const Cid = t.Object({ id: t.String({ maxLength: 64 }), cid: t.String({ maxLength: 64 }) })

export const CreateSignInBody = t.Object({
  identifier: t.Optional(t.String({ maxLength: 320 })),
  strategy: t.Optional(t.String({ maxLength: 64 })),
  password: t.Optional(t.String({ maxLength: 256 })),
  redirect_url: t.Optional(t.String({ maxLength: 2048 })),
  ticket: t.Optional(t.String({ maxLength: 512 })),
  email_address_id: t.Optional(t.String({ maxLength: 64 })),
  phone_number_id: t.Optional(t.String({ maxLength: 64 })),
})

export const signInsFapi = capabilityRoutes('fapi:sign-ins')
  .use(withActor)
  .post(
    '/v1/client/sign-ins',
    ({ env, actor, body }) => envelope(env, actor, signIns.createSignIn(env, actor, body)),
    {
      body: CreateSignInBody,
      response: { 200: Envelope(SignInResource) },
      detail: { summary: 'Start a sign-in (or complete it with identifier + password, or a ticket)', tags },
    },
  )
  .get(
    '/v1/client/sign-ins/:id',
    ({ env, actor, params }) => envelope(env, actor, signIns.getSignIn(env, actor, params.id)),
    {
      params: Id,
      response: { 200: Envelope(SignInResource) },
      detail: { summary: 'Get the sign-in', tags },
    },
  )
  .post(
    '/v1/client/sign-ins/:id/challenges',
    ({ env, actor, params, body }) =>
      envelope(env, actor, signIns.issueSignInChallenge(env, actor, params.id, body)),
    {
      params: Id,
      body: IssueChallengeBody,
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Issue a challenge; the step follows from the sign-in state', tags },
    },
  )
  .post(
    '/v1/client/sign-ins/:id/challenges/:cid/answer',
    ({ env, actor, params, body }) =>
      envelope(env, actor, signIns.answerSignInChallenge(env, actor, params.id, params.cid, body ?? {})),
    {
      params: Cid,
      body: t.Optional(AnswerChallengeBody),
      response: { 200: Envelope(SignInResource) },
      detail: { summary: 'Answer a challenge (code or password; cid "password" needs no issue)', tags },
    },
  )
  .get(
    '/v1/client/sign-ins/:id/challenges/:cid',
    ({ env, actor, params }) =>
      envelope(env, actor, signIns.getSignInChallenge(env, actor, params.id, params.cid)),
    {
      params: Cid,
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Poll a challenge (magic links opened elsewhere)', tags },
    },
  )
  .post(
    '/v1/client/sign-ins/:id/reset-password',
    ({ env, actor, params, body }) =>
      envelope(env, actor, signIns.resetSignInPassword(env, actor, params.id, body)),
    {
      params: Id,
      body: t.Object({
        password: t.String({ maxLength: 256 }),
        sign_out_of_other_sessions: t.Optional(t.BooleanString()),
      }),
      response: { 200: Envelope(SignInResource) },
      detail: { summary: 'Set a new password after a reset code', tags },
    },
  )
