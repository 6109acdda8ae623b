import * as accounts from '../../flows/accounts'
import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import {
  CountUsersQuery,
  CreateUserBody,
  DeletedUserResource,
  ListUsersQuery,
  MetadataBody,
  TotalCount,
  UpdateUserBody,
  UserIdParams,
  UserResource,
  VerifiedResult,
  VerifyPasswordBody,
} from './model'
import * as users from './service'

const tags = ['Users']
const one = { params: UserIdParams, response: { 200: UserResource } }

export const usersBapi = capabilityRoutes('bapi:users')
  .get('/v1/users', ({ env, query }) => users.listUsers(env, query), {
    query: ListUsersQuery,
    response: { 200: Paginated(UserResource) },
    detail: { summary: 'List users', tags },
  })
  .get('/v1/users/count', ({ env, query }) => users.countUsers(env, query), {
    query: CountUsersQuery,
    response: { 200: TotalCount },
    detail: { summary: 'Count users matching the filters', tags },
  })
  .post('/v1/users', ({ env, body }) => users.createUser(env, body), {
    body: CreateUserBody,
    response: { 200: UserResource },
    detail: { summary: 'Create a user', tags },
  })
  .get('/v1/users/:id', ({ env, params }) => users.getUser(env, params.id), {
    ...one,
    detail: { summary: 'Get a user', tags },
  })
  .patch('/v1/users/:id', ({ env, params, body }) => accounts.updateUser(env, params.id, body), {
    ...one,
    body: UpdateUserBody,
    detail: { summary: 'Update a user (metadata objects are replaced)', tags },
  })
  .patch('/v1/users/:id/metadata', ({ env, params, body }) => accounts.mergeMetadata(env, params.id, body), {
    ...one,
    body: MetadataBody,
    detail: { summary: 'Deep-merge metadata (null deletes a key)', tags },
  })
  .delete('/v1/users/:id', ({ env, params }) => accounts.deleteUser(env, params.id), {
    params: UserIdParams,
    response: { 200: DeletedUserResource },
    detail: { summary: 'Delete a user', tags },
  })
  .post('/v1/users/:id/ban', ({ env, params }) => accounts.banUser(env, params.id), {
    ...one,
    detail: { summary: 'Ban a user', tags },
  })
  .post('/v1/users/:id/unban', ({ env, params }) => users.unbanUser(env, params.id), {
    ...one,
    detail: { summary: 'Unban a user', tags },
  })
  .post('/v1/users/:id/lock', ({ env, params }) => accounts.lockUser(env, params.id), {
    ...one,
    detail: { summary: 'Lock a user for the lockout duration (their sessions end)', tags },
  })
  .post('/v1/users/:id/unlock', ({ env, params }) => users.unlockUser(env, params.id), {
    ...one,
    detail: { summary: 'Unlock a user and reset failed attempts', tags },
  })
  .post(
    '/v1/users/:id/verify-password',
    ({ env, params, body }) => users.verifyPassword(env, params.id, body.password),
    {
      params: UserIdParams,
      body: VerifyPasswordBody,
      response: { 200: VerifiedResult },
      detail: { summary: "Check a user's password", tags },
    },
  )
