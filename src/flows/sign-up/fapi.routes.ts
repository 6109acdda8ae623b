import { t } from 'elysia'
import { AnswerChallengeBody, ChallengeResource } from '../../domain/challenges/model'
import { envelope, withActor } from '../../http/fapi/actor'
import { challengeRoutes } from '../../http/shared/challenge-routes'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope, SignUpResource } from '../client/model'
import * as signUps from './machine'

const tags = ['Sign-ups']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

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
  transfer: t.Optional(t.BooleanString()),
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
    ({ env, actor, params, body }) =>
      envelope(env, actor, signUps.updateSignUpFields(env, actor, params.id, body)),
    {
      params: Id,
      body: SignUpBody,
      response: { 200: Envelope(SignUpResource) },
      detail: { summary: 'Add or change sign-up fields', tags },
    },
  )
  .use(
    challengeRoutes({
      name: 'fapi:sign-ups:challenges',
      parent: '/v1/client/sign-ups/:id',
      params: Id,
      surface: 'fapi',
      tags,
      issueBody: t.Object({
        strategy: t.String({ maxLength: 64 }),
        redirect_url: t.Optional(t.String({ maxLength: 2048 })),
      }),
      answerBody: AnswerChallengeBody,
      challenge: ChallengeResource,
      answered: SignUpResource,
      summaries: {
        issue: 'Send a verification code or link for an identifier',
        answer: 'Answer a verification code',
        get: 'Poll a verification (magic links opened elsewhere)',
      },
      issue: (env, actor, params, body) => signUps.issueSignUpChallenge(env, actor!, params.id!, body),
      answer: (env, actor, params, cid, body) =>
        signUps.answerSignUpChallenge(env, actor!, params.id!, cid, body),
      get: (env, actor, params, cid) => signUps.getSignUpChallenge(env, actor!, params.id!, cid),
    }),
  )
