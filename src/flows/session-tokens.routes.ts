import { t } from 'elysia'
import { TokenResource } from '../domain/jwt-templates/model'
import { capabilityRoutes } from '../http/shared/routes'
import { mintSessionTokenById, mintTemplateTokenById } from './session-tokens'

const tags = ['Sessions and clients']
/** Nothing to send (Clerk's `expires_in_seconds` is refused as unknown: our tokens live 60 s). */
const NoBody = t.Optional(t.Object({}, { additionalProperties: false }))

export const sessionTokensBapi = capabilityRoutes('bapi:session-tokens')
  .post('/v1/sessions/:id/tokens', ({ env, params }) => mintSessionTokenById(env, params.id), {
    params: t.Object({ id: t.String({ maxLength: 64 }) }),
    body: NoBody,
    response: { 200: TokenResource },
    detail: { summary: "Mint a session token for a session (as its device's refresh would)", tags },
  })
  .post(
    '/v1/sessions/:id/tokens/:name',
    ({ env, params }) => mintTemplateTokenById(env, params.id, params.name),
    {
      params: t.Object({ id: t.String({ maxLength: 64 }), name: t.String({ maxLength: 128 }) }),
      body: NoBody,
      response: { 200: TokenResource },
      detail: {
        summary: 'Mint a token from a JWT template for a session (404 for an unknown template)',
        tags,
      },
    },
  )
