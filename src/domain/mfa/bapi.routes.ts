import { t } from 'elysia'
import { capabilityRoutes } from '../../http/shared/routes'
import { UserResource } from '../users/model'
import { resetUserMfa, verifyUserTotp } from './service'

const tags = ['Multi-factor']
const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const mfaBapi = capabilityRoutes('bapi:mfa')
  .post('/v1/users/:id/verify-totp', ({ env, params, body }) => verifyUserTotp(env, params.id, body.code), {
    params: Id,
    body: t.Object({ code: t.String({ maxLength: 32 }) }, { additionalProperties: false }),
    response: { 200: t.Object({ verified: t.Boolean() }) },
    detail: { summary: "Check a user's TOTP code or backup code (a backup code is used up)", tags },
  })
  .delete('/v1/users/:id/mfa', ({ env, params }) => resetUserMfa(env, params.id), {
    params: Id,
    response: { 200: UserResource },
    detail: { summary: 'Remove the authenticator and every backup code of a user', tags },
  })
