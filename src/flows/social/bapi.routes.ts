import { t } from 'elysia'
import { OauthAccessTokenResource } from '../../domain/external-accounts/model'
import { capabilityRoutes } from '../../http/shared/routes'
import { oauthAccessTokens } from './account'

/** Provider access tokens for the customer's backend (to call Google, GitHub … for the user). */
export const oauthTokensBapi = capabilityRoutes('bapi:oauth-access-tokens').get(
  '/v1/users/:id/oauth-access-tokens/:provider',
  ({ env, params }) => oauthAccessTokens(env, params.id, params.provider),
  {
    params: t.Object({ id: t.String({ maxLength: 64 }), provider: t.String({ maxLength: 64 }) }),
    response: {
      200: t.Object({ data: t.Array(OauthAccessTokenResource), total_count: t.Integer() }),
    },
    detail: {
      summary: 'The user’s access token at a social provider, refreshed when it has expired',
      tags: ['Users'],
    },
  },
)
