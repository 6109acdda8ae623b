import { t } from 'elysia'
import { envelope, withActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { AnswerChallengeBody, ChallengeResource } from '../challenges/model'
import { Envelope, SignUpResource } from '../clients/model'
import * as signUps from './service'

const tags = ['Sign-ups']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })
const Cid = t.Object({ id: t.String({ maxLength: 64 }), cid: t.String({ maxLength: 64 }) })

export const SignUpBody = t.Object({
  email_address: t.Optional(t.String({ maxLength: 320 })),
  phone_number: t.Optional(t.String({ maxLength: 32 })),
  username: t.Optional(t.String({ maxLength: 64 })),
  password: t.Optional(t.String({ maxLength: 256 })),
  first_name: t.Optional(t.String({ maxLength: 256 })),
  last_name: t.Optional(t.String({ maxLength: 256 })),
  unsafe_metadata: t.Optional(t.Record(t.String(), t.Unknown())),
  ticket: t.Optional(t.String({ maxLength: 512 })),
  strategy: t.Optional(t.String({ maxLength: 64 })),
  redirect_url: t.Optional(t.String({ maxLength: 2048 })),
})

export const signUpsFapi = capabilityRoutes('fapi:sign-ups')
  .use(withActor)
  .post(
    '/v1/client/sign-ups',
    ({ env, actor, body }) => envelope(env, actor, signUps.createSignUp(env, actor, body)),
    {
      body: SignUpBody,
      response: { 200: Envelope(SignUpResource) },
      detail: { summary: 'Start a sign-up', tags },
    },
  )
  .get(
    '/v1/client/sign-ups/:id',
    ({ env, actor, params }) => envelope(env, actor, signUps.getSignUp(env, actor, params.id)),
    {
      params: Id,
      response: { 200: Envelope(SignUpResource) },
      detail: { summary: 'Get the sign-up', tags },
    },
  )
  .patch(
    '/v1/client/sign-ups/:id',
    ({ env, actor, params, body }) => envelope(env, actor, signUps.updateSignUp(env, actor, params.id, body)),
    {
      params: Id,
      body: SignUpBody,
      response: { 200: Envelope(SignUpResource) },
      detail: { summary: 'Add or change sign-up fields', tags },
    },
  )
  .post(
    '/v1/client/sign-ups/:id/challenges',
    ({ env, actor, params, body }) =>
      envelope(env, actor, signUps.issueSignUpChallenge(env, actor, params.id, body)),
    {
      params: Id,
      body: t.Object({
        strategy: t.String({ maxLength: 64 }),
        redirect_url: t.Optional(t.String({ maxLength: 2048 })),
      }),
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Send a verification code or link for an identifier', tags },
    },
  )
  .post(
    '/v1/client/sign-ups/:id/challenges/:cid/answer',
    ({ env, actor, params, body }) =>
      envelope(env, actor, signUps.answerSignUpChallenge(env, actor, params.id, params.cid, body ?? {})),
    {
      params: Cid,
      body: t.Optional(AnswerChallengeBody),
      response: { 200: Envelope(SignUpResource) },
      detail: { summary: 'Answer a verification code', tags },
    },
  )
  .get(
    '/v1/client/sign-ups/:id/challenges/:cid',
    ({ env, actor, params }) =>
      envelope(env, actor, signUps.getSignUpChallenge(env, actor, params.id, params.cid)),
    {
      params: Cid,
      response: { 200: Envelope(ChallengeResource) },
      detail: { summary: 'Poll a verification (magic links opened elsewhere)', tags },
    },
  )
