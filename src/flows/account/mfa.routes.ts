import { t } from 'elysia'
import { AnswerChallengeBody, ChallengeResource } from '../../domain/challenges/model'
import { envelope, withActor } from '../../http/fapi/actor'
import { withSignedIn } from '../../http/fapi/signed-in'
import { challengeRoutes } from '../../http/shared/challenge-routes'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope } from '../client/model'
import * as mfa from './mfa'
import * as stepUp from './step-up'

const TotpResource = t.Object({
  object: t.Literal('totp'),
  id: t.String(),
  secret: t.Optional(t.String()),
  uri: t.Optional(t.String()),
  qr_code: t.Optional(t.String()),
  verified: t.Boolean(),
  backup_codes: t.Nullable(t.Array(t.String())),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
const BackupCodesResource = t.Object({
  object: t.Literal('backup_code'),
  id: t.String(),
  codes: t.Array(t.String()),
  created_at: t.Integer(),
})
const Deleted = (object: string) =>
  t.Object({ object: t.Literal(object), id: t.String(), deleted: t.Literal(true) })
const Factor = t.Object({
  strategy: t.String(),
  safe_identifier: t.Nullable(t.String()),
  email_address_id: t.Optional(t.String()),
  phone_number_id: t.Optional(t.String()),
  primary: t.Optional(t.Boolean()),
})
const ReverificationResource = t.Object({
  object: t.Literal('session_reverification'),
  id: t.String(),
  level: t.String(),
  status: t.String(),
  supported_first_factors: t.Array(Factor),
  supported_second_factors: t.Array(Factor),
  first_factor_verification: t.Nullable(ChallengeResource),
  second_factor_verification: t.Nullable(ChallengeResource),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
const tags = ['Multi-factor']
const Sid = t.Object({ sid: t.String({ maxLength: 64 }) })

export const mfaFapi = capabilityRoutes('fapi:mfa')
  .use(withSignedIn)
  .post('/v1/me/totp', ({ env, actor, me }) => envelope(env, actor, mfa.startTotpEnrollment(env, me)), {
    response: { 200: Envelope(TotpResource) },
    detail: { summary: 'Start authenticator enrollment: secret, otpauth URI and QR code, shown once', tags },
  })
  .post(
    '/v1/me/totp/verify',
    ({ env, actor, me, body }) => envelope(env, actor, mfa.verifyTotpEnrollment(env, me, body.code)),
    {
      body: t.Object({ code: t.String({ maxLength: 32 }) }),
      response: { 200: Envelope(TotpResource) },
      detail: {
        summary: 'Confirm enrollment with the first code (first factor enrolled: backup codes, once)',
        tags,
      },
    },
  )
  .delete('/v1/me/totp', ({ env, actor, me }) => envelope(env, actor, mfa.removeTotp(env, me)), {
    response: { 200: Envelope(Deleted('totp')) },
    detail: { summary: 'Remove the authenticator', tags },
  })
  .post(
    '/v1/me/backup-codes',
    ({ env, actor, me }) => envelope(env, actor, mfa.regenerateBackupCodes(env, me)),
    {
      response: { 200: Envelope(BackupCodesResource) },
      detail: { summary: '(Re)generate backup codes, shown once', tags },
    },
  )
  .delete(
    '/v1/me/backup-codes',
    ({ env, actor, me }) => envelope(env, actor, mfa.deleteBackupCodes(env, me)),
    {
      response: { 200: Envelope(Deleted('backup_code')) },
      detail: { summary: 'Delete the unused backup codes', tags },
    },
  )

export const stepUpFapi = capabilityRoutes('fapi:step-up')
  .use(withActor)
  .post(
    '/v1/client/sessions/:sid/verify',
    ({ env, actor, params, body }) =>
      envelope(env, actor, stepUp.startReverification(env, actor, params.sid, body?.level)),
    {
      params: Sid,
      body: t.Optional(
        t.Object({
          level: t.Optional(
            t.Union([t.Literal('first_factor'), t.Literal('second_factor'), t.Literal('multi_factor')]),
          ),
        }),
      ),
      response: { 200: Envelope(ReverificationResource) },
      detail: { summary: 'Start a step-up verification of the session', tags },
    },
  )
  .use(
    challengeRoutes({
      name: 'fapi:step-up:challenges',
      parent: '/v1/client/sessions/:sid/verify',
      params: Sid,
      surface: 'fapi',
      tags,
      issueBody: t.Object({
        strategy: t.String({ maxLength: 64 }),
        email_address_id: t.Optional(t.String({ maxLength: 64 })),
        phone_number_id: t.Optional(t.String({ maxLength: 64 })),
      }),
      answerBody: AnswerChallengeBody,
      challenge: ChallengeResource,
      answered: ReverificationResource,
      summaries: {
        issue: 'Issue the step-up challenge the verification needs next',
        answer: 'Answer the step-up challenge; the session token’s fva resets',
      },
      issue: (env, actor, params, body) =>
        stepUp.issueReverificationChallenge(env, actor!, params.sid!, body),
      answer: (env, actor, params, cid, body) =>
        stepUp.answerReverificationChallenge(env, actor!, params.sid!, cid, body),
    }),
  )
