import { t } from 'elysia'
import { AnswerChallengeBody, ChallengeResource, IssueChallengeBody } from '../../domain/challenges/model'
import { envelope, withActor } from '../../http/fapi/actor'
import { challengeRoutes } from '../../http/shared/challenge-routes'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope, SignInResource } from '../client/model'
import * as signIns from './machine'

const tags = ['Sign-ins']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const CreateSignInBody = t.Object({
  identifier: t.Optional(t.String({ maxLength: 320 })),
  strategy: t.Optional(t.String({ maxLength: 64 })),
  password: t.Optional(t.String({ maxLength: 256 })),
  redirect_url: t.Optional(t.String({ maxLength: 2048 })),
  ticket: t.Optional(t.String({ maxLength: 512 })),
  email_address_id: t.Optional(t.String({ maxLength: 64 })),
  phone_number_id: t.Optional(t.String({ maxLength: 64 })),
  /** Form bodies say "true" (a BooleanString here would change how a non-object body is reported). */
  transfer: t.Optional(t.Union([t.Boolean(), t.Literal('true'), t.Literal('false')])),
})

export const signInsFapi = capabilityRoutes('fapi:sign-ins')
  .use(withActor)
  .post(
    '/v1/client/sign-ins',
    ({ env, actor, body }) =>
      envelope(
        env,
        actor,
        signIns.createSignIn(env, actor, {
          ...body,
          transfer: body.transfer === true || body.transfer === 'true',
        }),
      ),
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
  .use(
    challengeRoutes({
      name: 'fapi:sign-ins:challenges',
      parent: '/v1/client/sign-ins/:id',
      params: Id,
      surface: 'fapi',
      tags,
      issueBody: IssueChallengeBody,
      answerBody: AnswerChallengeBody,
      challenge: ChallengeResource,
      answered: SignInResource,
      summaries: {
        issue: 'Issue a challenge; the step follows from the sign-in state',
        answer: 'Answer a challenge (code or password; cid "password" needs no issue)',
        get: 'Poll a challenge (magic links opened elsewhere)',
      },
      issue: (env, actor, params, body) => signIns.issueSignInChallenge(env, actor!, params.id!, body),
      answer: (env, actor, params, cid, body) =>
        signIns.answerSignInChallenge(env, actor!, params.id!, cid, body),
      get: (env, actor, params, cid) => signIns.getSignInChallenge(env, actor!, params.id!, cid),
    }),
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
