import { t } from 'elysia'
import { UserResource } from '../../domain/users/model'
import { capabilityRoutes } from '../../http/shared/routes'
import { resetUserMfa, verifyUserSecondFactor } from './mfa'

const tags = ['Multi-factor']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const mfaBapi = capabilityRoutes('bapi:mfa')
  .post(
    '/v1/users/:id/verify-totp',
    ({ env, params, body }) => verifyUserSecondFactor(env, params.id, body.code),
    {
      params: Id,
      body: t.Object({ code: t.String({ maxLength: 32 }) }, { additionalProperties: false }),
      response: { 200: t.Object({ verified: t.Boolean() }) },
      detail: { summary: "Check a user's TOTP code or backup code (a backup code is used up)", tags },
    },
  )
  .delete('/v1/users/:id/mfa', ({ env, params }) => resetUserMfa(env, params.id), {
    params: Id,
    response: { 200: UserResource },
    detail: { summary: 'Remove the authenticator and every backup code of a user', tags },
  })
