import { t } from 'elysia'
import { envelope, withActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { ClientResource, Envelope, FapiSessionResource, TokenResource } from './model'
import * as flows from './service'

const tags = ['Client and sessions']
const Sid = t.Object({ sid: t.String({ maxLength: 64 }) })

export const clientsFapi = capabilityRoutes('fapi:clients')
  .use(withActor)
  .get('/v1/client', ({ env, actor }) => ({ response: flows.getClient(env, actor), client: null }), {
    response: { 200: t.Object({ response: t.Nullable(ClientResource), client: t.Null() }) },
    detail: { summary: "This device's client (null when there is none)", tags },
  })
  .post('/v1/client', ({ env, actor }) => envelope(env, actor, flows.createFreshClient(env, actor)), {
    response: { 200: Envelope(ClientResource) },
    detail: { summary: 'Start a fresh client for this device', tags },
  })
  .delete('/v1/client', ({ env, actor }) => envelope(env, actor, flows.signOutClient(env, actor)), {
    response: { 200: Envelope(t.Nullable(ClientResource)) },
    detail: { summary: 'Sign out of every session on this device', tags },
  })
  .get(
    '/v1/client/sessions/:sid',
    ({ env, actor, params }) => envelope(env, actor, flows.getClientSession(env, actor, params.sid)),
    {
      params: Sid,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: 'A session of this client', tags },
    },
  )
  .post(
    '/v1/client/sessions/:sid/end',
    ({ env, actor, params }) => envelope(env, actor, flows.finishSession(env, actor, params.sid, 'ended')),
    {
      params: Sid,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: 'Sign out of one session', tags },
    },
  )
  .post(
    '/v1/client/sessions/:sid/remove',
    ({ env, actor, params }) => envelope(env, actor, flows.finishSession(env, actor, params.sid, 'removed')),
    {
      params: Sid,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: 'Remove a session from this device', tags },
    },
  )
  .post(
    '/v1/client/sessions/:sid/tokens',
    ({ env, actor, params, body }) => flows.mintToken(env, actor, params.sid, body?.organization_id),
    {
      params: Sid,
      body: t.Optional(t.Object({ organization_id: t.Optional(t.String({ maxLength: 64 })) })),
      response: { 200: TokenResource },
      detail: {
        summary:
          'Mint a 60-second session token (refresh); organization_id switches the active organization ("" for none)',
        tags,
      },
    },
  )
  .post(
    '/v1/client/sessions/:sid/tokens/:name',
    ({ env, actor, params }) => flows.mintTemplateTokenForSession(env, actor, params.sid, params.name),
    {
      params: t.Object({ sid: t.String({ maxLength: 64 }), name: t.String({ maxLength: 128 }) }),
      response: { 200: TokenResource },
      detail: {
        summary: 'Mint a token from a JWT template for this session (404 for an unknown template)',
        tags,
      },
    },
  )
