import { t } from 'elysia'
import { withActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { formPostToGet, oauthCallback } from './callback'

const redirect = (location: string) =>
  new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } })

const Params = t.Object({ provider_key: t.String({ maxLength: 64 }) })
const tags = ['Social sign-in']

/** The provider's redirect target: browsers only, never called by an SDK. */
export const oauthCallbackRoutes = capabilityRoutes('browser:oauth-callback')
  .use(withActor)
  .get(
    '/v1/oauth-callback/:provider_key',
    async ({ env, actor, params, request }) =>
      redirect(await oauthCallback(env, actor, params.provider_key, new URL(request.url).searchParams)),
    {
      params: Params,
      detail: { summary: 'The social provider’s redirect back (browsers only)', tags },
    },
  )
  .post(
    '/v1/oauth-callback/:provider_key',
    async ({ request }) => redirect(formPostToGet(request.url, await request.text())),
    {
      params: Params,
      parse: 'none',
      detail: { summary: 'The provider’s form_post answer (Apple), passed on to the GET callback', tags },
    },
  )
