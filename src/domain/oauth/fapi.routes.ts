import { Envelope } from '../../flows/client/model'
import { envelope } from '../../http/fapi/actor'
import { withSignedIn } from '../../http/fapi/signed-in'
import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import { DeletedOauthGrant, ListGrantsQuery, MyGrantParams, OauthGrantResource } from './model'
import * as grants from './service'

const tags = ['Signed-in user']

/** The signed-in user's authorised apps (<UserProfile />'s "Authorized apps"). */
export const myOauthGrantsFapi = capabilityRoutes('fapi:me-oauth-grants')
  .use(withSignedIn)
  .get(
    '/v1/me/oauth-authorization-grants',
    ({ env, actor, me, query }) => envelope(env, actor, grants.listUserGrants(env, me.user.user.id, query)),
    {
      query: ListGrantsQuery,
      response: { 200: Envelope(Paginated(OauthGrantResource)) },
      detail: { summary: 'The apps the user has authorised, newest first', tags },
    },
  )
  .get(
    '/v1/me/oauth-authorization-grants/:id',
    ({ env, actor, me, params }) =>
      envelope(env, actor, grants.getUserGrant(env, me.user.user.id, params.id)),
    {
      params: MyGrantParams,
      response: { 200: Envelope(OauthGrantResource) },
      detail: { summary: 'One of the apps the user has authorised', tags },
    },
  )
  .delete(
    '/v1/me/oauth-authorization-grants/:id',
    ({ env, actor, me, params }) =>
      envelope(env, actor, grants.revokeUserGrant(env, me.user.user.id, params.id)),
    {
      params: MyGrantParams,
      response: { 200: Envelope(DeletedOauthGrant) },
      detail: {
        summary: "Revoke an app's access: its refresh tokens fail with invalid_grant from now on",
        tags,
      },
    },
  )
