import { t } from 'elysia'
import { ChallengeResource } from '../../domain/challenges/model'
import { DeletedExternalAccount, ExternalAccountResource } from '../../domain/external-accounts/model'
import { envelope } from '../../http/fapi/actor'
import { withSignedIn } from '../../http/fapi/signed-in'
import { capabilityRoutes } from '../../http/shared/routes'
import { Envelope } from '../client/model'
import * as accounts from './account'

const Id = t.Object({ id: t.String({ maxLength: 64 }) })
const tags = ['Signed-in user: external accounts']

export const externalAccountsFapi = capabilityRoutes('fapi:me:external-accounts')
  .use(withSignedIn)
  .get(
    '/v1/me/external-accounts',
    ({ env, actor, me }) => envelope(env, actor, accounts.myExternalAccounts(env, me)),
    {
      response: { 200: Envelope(t.Array(ExternalAccountResource)) },
      detail: { summary: 'List the signed-in user’s connected social accounts', tags },
    },
  )
  .post(
    '/v1/me/external-accounts',
    ({ env, actor, me, body }) => envelope(env, actor, accounts.connectExternalAccount(env, actor, me, body)),
    {
      body: t.Object({
        strategy: t.String({ maxLength: 64 }),
        redirect_url: t.Optional(t.String({ maxLength: 2048 })),
      }),
      response: { 200: Envelope(ChallengeResource) },
      detail: {
        summary: 'Connect another social provider: answers external_verification_redirect_url',
        tags,
      },
    },
  )
  .get(
    '/v1/me/external-accounts/:id',
    ({ env, actor, me, params }) => envelope(env, actor, accounts.myExternalAccount(env, me, params.id)),
    {
      params: Id,
      response: { 200: Envelope(ExternalAccountResource) },
      detail: { summary: 'Get a connected social account', tags },
    },
  )
  .delete(
    '/v1/me/external-accounts/:id',
    ({ env, actor, me, params }) =>
      envelope(env, actor, accounts.unlinkMyExternalAccount(env, me, params.id)),
    {
      params: Id,
      response: { 200: Envelope(DeletedExternalAccount) },
      detail: {
        summary:
          'Unlink a social account (not the last way to sign in; best-effort revocation at the provider)',
        tags,
      },
    },
  )
