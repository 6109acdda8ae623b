import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Elysia, t } from 'elysia'
import { htmlErrorResponse } from '../../src/http/shared/error-page'
import { oauthErrorResponse, oauthMeta } from '../../src/http/shared/oauth-errors'
import { elysiaPresenter } from '../../src/http/shared/presenter'
import { SCIM_CONTENT_TYPE, SCIM_ERROR_SCHEMA, scimErrorResponse } from '../../src/http/shared/scim-errors'
import { defaultSurfaces, pickSurface, type Surface } from '../../src/http/surfaces'
import { AppError, formIdentifierExists } from '../../src/lib/errors'
import type { AccessLine } from '../../src/log'
import { createServer, type Server } from '../../src/server'
import type { EnvPool } from '../../src/tenancy/pool'
import { body, createHarness, type Harness } from '../helpers/harness'

// Test-only surfaces: tiny apps shaped like the coming OAuth, SCIM and browser endpoints, to
// prove the table takes them without any stub route in production.

const FORM = 'application/x-www-form-urlencoded'

const oauthApp = new Elysia({ name: 'test:oauth' })
  .use(elysiaPresenter(oauthErrorResponse))
  .post(
    '/oauth/token',
    async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.getAll('grant_type').length !== 1) {
        throw new AppError(400, [
          {
            code: 'oauth_request_invalid',
            message: 'invalid request',
            long_message: 'grant_type must be sent exactly once.',
            meta: oauthMeta('invalid_request'),
          },
        ])
      }
      if (request.headers.get('authorization') !== `Basic ${btoa('app:secret')}`) {
        throw new AppError(401, [
          {
            code: 'oauth_client_invalid',
            message: 'invalid client',
            long_message: 'Client authentication failed.',
            meta: oauthMeta('invalid_client'),
          },
        ])
      }
      if (form.get('code') !== 'good') {
        throw new AppError(400, [
          {
            code: 'oauth_grant_invalid',
            message: 'invalid grant',
            long_message: 'The authorization code is invalid.',
            meta: oauthMeta('invalid_grant'),
          },
        ])
      }
      return Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 60 })
    },
    { parse: 'none' },
  )
  .get('/oauth/userinfo', () => {
    throw new Error('db password hunter2')
  })

const scimApp = new Elysia({ name: 'test:scim', normalize: false })
  .use(elysiaPresenter(scimErrorResponse))
  .derive(({ request }) => {
    if (request.headers.get('authorization') !== 'Bearer scim_token_for_org_a') {
      throw new AppError(401, [
        {
          code: 'scim_token_invalid',
          message: 'invalid token',
          long_message: 'The SCIM token is not valid.',
        },
      ])
    }
    return {}
  })
  .get(
    '/scim/v2/Users',
    () =>
      new Response(
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 0,
          Resources: [],
        }),
        { headers: { 'content-type': SCIM_CONTENT_TYPE } },
      ),
  )
  .post(
    '/scim/v2/Users',
    ({ body }) => {
      if (body.userName === 'taken') throw formIdentifierExists('userName')
      return new Response(JSON.stringify({ userName: body.userName }), {
        status: 201,
        headers: { 'content-type': SCIM_CONTENT_TYPE },
      })
    },
    { parse: 'json', body: t.Object({ userName: t.String(), active: t.Optional(t.Boolean()) }) },
  )

const ACS = /^\/v1\/saml\/[^/]+\/acs$/
const browserApp = new Elysia({ name: 'test:browser' })
  .use(elysiaPresenter(htmlErrorResponse))
  .post(
    '/v1/saml/:id/acs',
    async ({ params, request }) => {
      const response = new URLSearchParams(await request.text()).get('SAMLResponse')
      if (response === 'bad') {
        throw new AppError(400, [
          {
            code: 'saml_response_invalid',
            message: 'invalid SAML response',
            long_message: 'The <b>SAML</b> response was not valid.',
          },
        ])
      }
      if (response === 'crash') throw new Error('stack secret hunter2')
      return new Response(null, {
        status: 303,
        headers: { location: `https://app.example.test/after?connection=${params.id}` },
      })
    },
    { parse: 'none' },
  )
  .get(
    '/v1/oauth_callback',
    () => new Response('<p>signed in</p>', { headers: { 'content-type': 'text/html' } }),
  )

const testSurfaces = (): Surface[] => [
  {
    name: 'oauth',
    match: { path: '/oauth' },
    env: 'host',
    edge: { cors: 'any', methodOverride: false, body: { json: 'unchecked', accept: [FORM] } },
    present: oauthErrorResponse,
    app: oauthApp,
  },
  {
    name: 'scim',
    match: { path: '/scim/v2' },
    env: 'host',
    edge: {
      cors: 'none',
      methodOverride: false,
      body: { json: 'must-parse', accept: [SCIM_CONTENT_TYPE, 'application/json'], maxBytes: 1024 },
    },
    present: scimErrorResponse,
    app: scimApp,
  },
  {
    name: 'browser',
    match: { path: (path) => ACS.test(path) || path === '/v1/oauth_callback' },
    env: 'host',
    edge: { cors: 'none', methodOverride: false, body: { json: 'unchecked', accept: [FORM] } },
    present: htmlErrorResponse,
    app: browserApp,
  },
]

let h: Harness
let server: Server
const lines: AccessLine[] = []
const leases = { taken: 0, released: 0 }

beforeAll(async () => {
  h = await createHarness({ envs: [{}] })
  const pool = h.rt.pool
  // Counts leases, so the test can see every one released, errors included.
  const counting: EnvPool = {
    ...pool,
    lease(envId) {
      const lease = pool.lease(envId)
      if (!lease) return null
      leases.taken++
      return {
        ctx: lease.ctx,
        release() {
          leases.released++
          lease.release()
        },
      }
    },
  }
  server = createServer({
    registry: h.rt.registry,
    pool: counting,
    clock: h.clock,
    log: h.rt.log,
    access: (line) => lines.push(line),
    maxBodyBytes: h.rt.config.maxBodyBytes,
    rateLimits: false,
    surfaces: [...testSurfaces(), ...defaultSurfaces()],
  })
})
afterAll(() => h.close())

const send = (path: string, init: RequestInit & { host?: string } = {}) =>
  server.handle(new Request(`https://${init.host ?? h.env.host}${path}`, init), '127.0.0.1')
const json = (res: Response): Promise<any> => res.json()
const lastLine = () => lines.at(-1)!
const form = (text: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': FORM, ...headers },
  body: text,
})

describe('surface table: matching and order', () => {
  const table = [...testSurfaces(), ...defaultSurfaces()]
  const pick = (path: string, authorization: string | null = null, method = 'GET') =>
    pickSurface(table, path, method, authorization)?.name
  const sk = 'Bearer sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

  it('takes the first entry whose path and credential both match', () => {
    expect(pick('/scim/v2/Users', sk)).toBe('scim')
    expect(pick('/v1/saml/ec_123/acs', sk, 'POST')).toBe('browser')
    // The default table's browser entry claims every SAML path and the enterprise SSO callback.
    expect(pick('/v1/saml/ec_123/metadata', sk)).toBe('browser')
    expect(pick('/v1/enterprise-sso-callback')).toBe('browser')
    expect(pick('/v1/samlx/metadata', sk)).toBe('bapi')
    expect(pick('/v1/samlx/metadata')).toBe('fapi')
    expect(pick('/v1/users', sk)).toBe('bapi')
    expect(pick('/v1/users', 'Bearer client-token')).toBe('fapi')
    expect(pick('/v1')).toBe('fapi')
    expect(pick('/oauth/token', null, 'POST')).toBe('oauth')
    expect(pick('/.well-known/jwks.json')).toBe('wellknown')
    expect(pick('/docs')).toBe('docs')
  })

  it('matches prefixes on segment boundaries and leaves the rest unmatched', () => {
    expect(pick('/docs', null, 'POST')).toBeUndefined()
    expect(pick('/v1x/users')).toBeUndefined()
    expect(pick('/oauthx')).toBeUndefined()
    expect(pick('/scim/v2x')).toBeUndefined()
    expect(pick('/.well-known')).toBeUndefined()
    expect(pick('/')).toBeUndefined()
  })

  it('lets an earlier entry shadow a later one with the same prefix', () => {
    const [oauth] = testSurfaces()
    const shadow: Surface = { ...oauth!, name: 'browser' }
    expect(pickSurface([shadow, oauth!], '/oauth/token', 'POST', null)?.name).toBe('browser')
  })
})

describe('an OAuth surface', () => {
  it('answers RFC 6749 error bodies with no-store, CORS for any origin', async () => {
    const res = await send('/oauth/token', form('code=good', { origin: 'https://spa.example.org' }))
    expect(res.status).toBe(400)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('pragma')).toBe('no-cache')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(res.headers.get('x-trace-id')).toMatch(/^[a-f0-9]{32}$/)
    expect(await json(res)).toEqual({
      error: 'invalid_request',
      error_description: 'grant_type must be sent exactly once.',
    })
    expect(lastLine()).toMatchObject({ surface: 'oauth', status: 400, env_id: h.env.id })
  })

  it('answers a failed Basic client authentication with 401 invalid_client and a Basic challenge', async () => {
    const res = await send(
      '/oauth/token',
      form('grant_type=authorization_code&code=good', { authorization: `Basic ${btoa('app:wrong')}` }),
    )
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Basic realm="https://${h.env.host}"`)
    expect((await json(res)).error).toBe('invalid_client')
    const grant = await send(
      '/oauth/token',
      form('grant_type=authorization_code&code=used', { authorization: `Basic ${btoa('app:secret')}` }),
    )
    expect(grant.status).toBe(400)
    expect((await json(grant)).error).toBe('invalid_grant')
    const ok = await send(
      '/oauth/token',
      form('grant_type=authorization_code&code=good', { authorization: `Basic ${btoa('app:secret')}` }),
    )
    expect(ok.status).toBe(200)
    expect((await json(ok)).access_token).toBe('at')
  })

  it('presents edge errors in the same format: unknown host, unknown route, wrong body type, crashes', async () => {
    const noEnv = await send('/oauth/token', { ...form('grant_type=x'), host: 'nobody.example.test' })
    expect(noEnv.status).toBe(404)
    expect(noEnv.headers.get('cache-control')).toBe('no-store')
    expect(await json(noEnv)).toEqual({
      error: 'invalid_request',
      error_description: 'No environment is configured for this host.',
    })
    const route = await send('/oauth/nope')
    expect(route.status).toBe(404)
    expect((await json(route)).error).toBe('invalid_request')
    const jsonBody = await send('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"x"}',
    })
    expect(jsonBody.status).toBe(415)
    expect((await json(jsonBody)).error).toBe('invalid_request')
    const crash = await send('/oauth/userinfo')
    expect(crash.status).toBe(500)
    const text = await crash.text()
    expect(JSON.parse(text).error).toBe('server_error')
    expect(text).not.toContain('hunter2')
  })

  it('answers preflights for any origin', async () => {
    const res = await send('/oauth/token', {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example.org', 'access-control-request-method': 'POST' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('a SCIM surface', () => {
  const sk = () => `Bearer ${h.env.secretKey}`
  const scimPost = (text: string, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { authorization: 'Bearer scim_token_for_org_a', 'content-type': SCIM_CONTENT_TYPE, ...headers },
    body: text,
  })

  it("does not take a secret key on /scim/v2 for a BAPI call: it is the SCIM app's 401", async () => {
    const res = await send('/scim/v2/Users', { headers: { authorization: sk() } })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect(await json(res)).toEqual({
      schemas: [SCIM_ERROR_SCHEMA],
      status: '401',
      detail: 'The SCIM token is not valid.',
    })
    expect(lastLine().surface).toBe('scim')
    const ok = await send('/scim/v2/Users', { headers: { authorization: 'Bearer scim_token_for_org_a' } })
    expect(ok.status).toBe(200)
    expect((await json(ok)).totalResults).toBe(0)
  })

  it('answers bad bodies with RFC 7644 errors: syntax, value, uniqueness, size, type', async () => {
    const broken = await send('/scim/v2/Users', scimPost('{"userName":'))
    expect(broken.status).toBe(400)
    expect(broken.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE)
    expect(await json(broken)).toMatchObject({ status: '400', scimType: 'invalidSyntax' })
    const wrong = await send('/scim/v2/Users', scimPost('{"userName":12}'))
    expect(wrong.status).toBe(400)
    expect(await json(wrong)).toMatchObject({ status: '400', scimType: 'invalidValue' })
    const taken = await send('/scim/v2/Users', scimPost('{"userName":"taken"}'))
    expect(taken.status).toBe(409)
    expect(await json(taken)).toMatchObject({ status: '409', scimType: 'uniqueness' })
    const big = await send('/scim/v2/Users', scimPost(JSON.stringify({ userName: 'x'.repeat(2000) })))
    expect(big.status).toBe(413)
    expect(await json(big)).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '413' })
    const text = await send('/scim/v2/Users', scimPost('userName=x', { 'content-type': 'text/plain' }))
    expect(text.status).toBe(415)
    expect((await json(text)).status).toBe('415')
    const plainJson = await send(
      '/scim/v2/Users',
      scimPost('{"userName":"bjensen"}', { 'content-type': 'application/json' }),
    )
    expect(plainJson.status).toBe(201)
  })

  it('answers unknown routes and unknown hosts with SCIM bodies', async () => {
    const route = await send('/scim/v2/Nope', { headers: { authorization: 'Bearer scim_token_for_org_a' } })
    expect(route.status).toBe(404)
    expect(await json(route)).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '404' })
    const host = await send('/scim/v2/Users', { host: 'nobody.example.test' })
    expect(host.status).toBe(404)
    expect(await json(host)).toEqual({
      schemas: [SCIM_ERROR_SCHEMA],
      status: '404',
      detail: 'No environment is configured for this host.',
    })
  })
})

describe('a browser-only surface', () => {
  const foreign = { origin: 'https://idp.foreign.example' }

  it('accepts a form post to the ACS from a foreign origin, without CORS headers', async () => {
    const res = await send('/v1/saml/ec_123/acs', form('SAMLResponse=ok&RelayState=r', foreign))
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://app.example.test/after?connection=ec_123')
    for (const [name] of res.headers) expect(name.startsWith('access-control-')).toBe(false)
    expect(res.headers.get('vary')).toBeNull()
    expect(lastLine()).toMatchObject({ surface: 'browser', status: 303, method: 'POST' })
    // The same origin on a FAPI mutation is refused: the table, not the path, decides the policy.
    const fapi = await send('/v1/client/sign-ins', form('identifier=a@example.com', foreign))
    expect(fapi.status).toBe(403)
    expect((await body(fapi)).errors[0].code).toBe('origin_invalid')
  })

  it('answers errors with an HTML page: escaped sentence, trace id, no stack', async () => {
    const bad = await send('/v1/saml/ec_123/acs', form('SAMLResponse=bad', foreign))
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(bad.headers.get('access-control-allow-origin')).toBeNull()
    const html = await bad.text()
    expect(html).toContain('The &lt;b&gt;SAML&lt;/b&gt; response was not valid.')
    expect(html).toContain(bad.headers.get('x-trace-id')!)
    const crash = await send('/v1/saml/ec_123/acs', form('SAMLResponse=crash', foreign))
    expect(crash.status).toBe(500)
    const page = await crash.text()
    expect(page).not.toContain('hunter2')
    expect(page).toContain(crash.headers.get('x-trace-id')!)
    const jsonBody = await send('/v1/saml/ec_123/acs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(jsonBody.status).toBe(415)
    expect(jsonBody.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const host = await send('/v1/saml/ec_123/acs', {
      ...form('SAMLResponse=ok'),
      host: 'nobody.example.test',
    })
    expect(host.status).toBe(404)
    expect(await host.text()).toContain('No environment is configured for this host.')
  })

  it('does not rewrite ?_method= and leaves paths it does not claim to FAPI', async () => {
    const post = await send('/v1/saml/ec_123/acs?_method=DELETE', form('SAMLResponse=ok'))
    expect(post.status).toBe(303)
    expect(lastLine().method).toBe('POST')
    const other = await send('/v1/sso/ec_123/metadata')
    expect(other.status).toBe(404)
    expect((await body(other)).errors[0].code).toBe('route_not_found')
    expect(lastLine().surface).toBe('fapi')
    const callback = await send('/v1/oauth_callback?code=x')
    expect(callback.status).toBe(200)
  })
})

describe('the default surfaces behind extra entries', () => {
  it('still dispatch BAPI by secret key and FAPI by host', async () => {
    const users = await server.handle(
      new Request('https://api.authn.test/v1/users/count', {
        headers: { authorization: `Bearer ${h.env.secretKey}` },
      }),
    )
    expect(users.status).toBe(200)
    expect(lastLine().surface).toBe('bapi')
    const env = await send('/v1/environment')
    expect(env.status).toBe(200)
    expect(lastLine().surface).toBe('fapi')
  })

  it('released every lease it took and has nothing in flight', async () => {
    await server.idle()
    expect(server.inFlight).toBe(0)
    expect(leases.taken).toBeGreaterThan(10)
    expect(leases.released).toBe(leases.taken)
  })
})
