import { Elysia, t } from 'elysia'
import { withEnv } from '../../http/shared/env'
import { requestEnv, requestState } from '../../http/shared/request-state'
import { ELYSIA_CONFIG } from '../../http/shared/routes'
import { SCIM_CONTENT_TYPE } from '../../http/shared/scim-errors'
import { authenticateScimToken } from './admin'
import { scimError, scimNotFound, scimTokenInvalid } from './errors'
import * as groups from './groups'
import { resourceTypes, schemaResources, serviceProviderConfig } from './schemas'
import * as users from './users'
import { LIST_RESPONSE, projection, type ScimResult } from './wire'

/** The SCIM answer as application/scim+json (no body on 204/304). */
function reply(r: ScimResult): Response {
  const headers = new Headers(r.headers)
  if (r.body === undefined) return new Response(null, { status: r.status, headers })
  headers.set('content-type', SCIM_CONTENT_TYPE)
  return new Response(JSON.stringify(r.body), { status: r.status, headers })
}

const json = (body: Record<string, unknown>) => reply({ status: 200, body })
const list = (resources: Array<Record<string, unknown>>) =>
  json({
    schemas: [LIST_RESPONSE],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  })

const text = t.Optional(t.String({ maxLength: 4096 }))
const ListQuery = t.Object({
  filter: text,
  startIndex: text,
  count: text,
  sortBy: text,
  sortOrder: text,
  attributes: text,
  excludedAttributes: text,
})
const OneQuery = t.Object({ attributes: text, excludedAttributes: text })
const Id = t.Object({ id: t.String({ maxLength: 256 }) })

const baseUrl = (request: Request, fallback: string) =>
  `${requestState(request)?.frontendUrl ?? fallback}/scim/v2`

/** The body the dispatcher parsed (application/scim+json or application/json). */
const bodyOf = (request: Request): unknown => requestState(request)?.json?.value

/**
 * Discovery (RFC 7644 §4): served with or without a token, as IdPs probe it while testing a
 * connection; the documents are the same for every organization.
 */
export const scimDiscovery = new Elysia({ name: 'scim:discovery', ...ELYSIA_CONFIG })
  .use(withEnv)
  .get('/scim/v2/ServiceProviderConfig', ({ env, request }) =>
    json(serviceProviderConfig(baseUrl(request, env.frontendUrl()))),
  )
  .get('/scim/v2/ResourceTypes', ({ env, request }) =>
    list(resourceTypes(baseUrl(request, env.frontendUrl()))),
  )
  .get(
    '/scim/v2/ResourceTypes/:id',
    ({ env, request, params }) => {
      const found = resourceTypes(baseUrl(request, env.frontendUrl())).find((r) => r.id === params.id)
      if (!found) throw scimNotFound('ResourceType', params.id)
      return json(found)
    },
    { params: Id },
  )
  .get('/scim/v2/Schemas', ({ env, request }) => list(schemaResources(baseUrl(request, env.frontendUrl()))))
  .get(
    '/scim/v2/Schemas/:id',
    ({ env, request, params }) => {
      const found = schemaResources(baseUrl(request, env.frontendUrl())).find((s) => s.id === params.id)
      if (!found) throw scimNotFound('Schema', params.id)
      return json(found)
    },
    { params: Id },
  )

/** `Authorization: Bearer scim_…` → the organization; unknown or revoked tokens are a 401. */
const withCaller = new Elysia({ name: 'scim:caller' }).resolve({ as: 'scoped' }, ({ request }) => {
  const env = requestEnv(request)
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')
  const found = m ? authenticateScimToken(env, m[1]!) : null
  if (!found) throw scimTokenInvalid()
  return {
    caller: { ctx: env, organizationId: found.organizationId, base: baseUrl(request, env.frontendUrl()) },
  }
})

const ifMatch = (request: Request) => request.headers.get('if-match')

/** Users and Groups of the token's organization. */
export const scimResources = new Elysia({ name: 'scim:resources', ...ELYSIA_CONFIG })
  .use(withCaller)
  .get(
    '/scim/v2/Users',
    ({ caller, query }) => reply(users.listScimUsers(caller, { ...query, ...projection(query) })),
    { query: ListQuery },
  )
  .post(
    '/scim/v2/Users',
    ({ caller, request, query }) => reply(users.createScimUser(caller, bodyOf(request), projection(query))),
    { query: OneQuery, parse: 'none' },
  )
  .get(
    '/scim/v2/Users/:id',
    ({ caller, request, params, query }) =>
      reply(
        users.getScimUser(caller, params.id, {
          ...projection(query),
          ifNoneMatch: request.headers.get('if-none-match'),
        }),
      ),
    { params: Id, query: OneQuery },
  )
  .put(
    '/scim/v2/Users/:id',
    ({ caller, request, params, query }) =>
      reply(
        users.replaceScimUser(caller, params.id, bodyOf(request), {
          ...projection(query),
          ifMatch: ifMatch(request),
        }),
      ),
    { params: Id, query: OneQuery, parse: 'none' },
  )
  .patch(
    '/scim/v2/Users/:id',
    ({ caller, request, params, query }) =>
      reply(
        users.patchScimUser(caller, params.id, bodyOf(request), {
          ...projection(query),
          ifMatch: ifMatch(request),
        }),
      ),
    { params: Id, query: OneQuery, parse: 'none' },
  )
  .delete(
    '/scim/v2/Users/:id',
    ({ caller, request, params }) =>
      reply(users.deleteScimUser(caller, params.id, { ifMatch: ifMatch(request) })),
    { params: Id, parse: 'none' },
  )
  .get(
    '/scim/v2/Groups',
    ({ caller, query }) => reply(groups.listScimGroups(caller, { ...query, ...projection(query) })),
    { query: ListQuery },
  )
  .post(
    '/scim/v2/Groups',
    ({ caller, request, query }) => reply(groups.createScimGroup(caller, bodyOf(request), projection(query))),
    { query: OneQuery, parse: 'none' },
  )
  .get(
    '/scim/v2/Groups/:id',
    ({ caller, request, params, query }) =>
      reply(
        groups.getScimGroup(caller, params.id, {
          ...projection(query),
          ifNoneMatch: request.headers.get('if-none-match'),
        }),
      ),
    { params: Id, query: OneQuery },
  )
  .put(
    '/scim/v2/Groups/:id',
    ({ caller, request, params, query }) =>
      reply(
        groups.replaceScimGroup(caller, params.id, bodyOf(request), {
          ...projection(query),
          ifMatch: ifMatch(request),
        }),
      ),
    { params: Id, query: OneQuery, parse: 'none' },
  )
  .patch(
    '/scim/v2/Groups/:id',
    ({ caller, request, params, query }) =>
      reply(
        groups.patchScimGroup(caller, params.id, bodyOf(request), {
          ...projection(query),
          ifMatch: ifMatch(request),
        }),
      ),
    { params: Id, query: OneQuery, parse: 'none' },
  )
  .delete(
    '/scim/v2/Groups/:id',
    ({ caller, request, params }) =>
      reply(groups.deleteScimGroup(caller, params.id, { ifMatch: ifMatch(request) })),
    { params: Id, parse: 'none' },
  )
  .post(
    '/scim/v2/Bulk',
    () => {
      throw scimError(
        501,
        null,
        'Bulk operations are not supported (ServiceProviderConfig bulk.supported is false).',
      )
    },
    { parse: 'none' },
  )
