import { describe, expect, it } from 'bun:test'
import { Elysia, t } from 'elysia'
import pino from 'pino'
import { htmlErrorResponse } from '../../src/http/shared/error-page'
import { routeNotFound } from '../../src/http/shared/errors'
import { oauthErrorResponse, oauthMeta } from '../../src/http/shared/oauth-errors'
import {
  clerkErrorResponse,
  elysiaPresenter,
  type Presenter,
  type PresentState,
} from '../../src/http/shared/presenter'
import { setRequestState } from '../../src/http/shared/request-state'
import { SCIM_ERROR_SCHEMA, scimErrorResponse, scimMeta } from '../../src/http/shared/scim-errors'
import { AppError, formIdentifierExists, formParamInvalid } from '../../src/lib/errors'

const json = (res: Response): Promise<any> => res.json()

/** A presenter state whose logger keeps what it is given. */
function stateWith(request?: Request) {
  const lines: any[] = []
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) })
  const state: PresentState = {
    traceId: 'trace-0123456789',
    log,
    request,
    frontendUrl: 'https://clerk.example.test',
  }
  return { state, lines }
}

const boom = () => new Error('db password hunter2 at /srv/app/secret.ts:12')
const tokenRevoked = () =>
  new AppError(401, [
    {
      code: 'oauth_token_invalid',
      message: 'invalid token',
      long_message: 'The access token is expired or revoked.',
      meta: oauthMeta('invalid_token'),
    },
  ])

describe('clerk envelope presenter', () => {
  it('answers an AppError as { errors, trace_id } with its status and headers', async () => {
    const { state } = stateWith()
    const res = clerkErrorResponse(
      new AppError(429, [{ code: 'too_many_requests', message: 'too many requests' }], {
        headers: { 'retry-after': '3' },
      }),
      state,
    )
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('3')
    expect(await json(res)).toEqual({
      errors: [{ code: 'too_many_requests', message: 'too many requests' }],
      trace_id: 'trace-0123456789',
      clerk_trace_id: 'trace-0123456789',
    })
  })

  it('answers anything else with 500 internal_error, logged with the trace id, message kept off the wire', async () => {
    const { state, lines } = stateWith()
    const res = clerkErrorResponse(boom(), state)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text).errors[0].code).toBe('internal_error')
    expect(text).not.toContain('hunter2')
    expect(lines).toHaveLength(1)
    expect(lines[0].trace_id).toBe('trace-0123456789')
    expect(lines[0].err.message).toContain('hunter2')
  })
})

describe('OAuth presenter (RFC 6749 §5.2)', () => {
  it('answers the code an AppError names, with no-store and only error and error_description', async () => {
    const { state } = stateWith()
    const res = oauthErrorResponse(
      new AppError(400, [
        {
          code: 'oauth_grant_invalid',
          message: 'invalid grant',
          long_message: 'The authorization code was already used.',
          meta: oauthMeta('invalid_grant'),
        },
      ]),
      state,
    )
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('pragma')).toBe('no-cache')
    expect(res.headers.has('www-authenticate')).toBe(false)
    expect(await json(res)).toEqual({
      error: 'invalid_grant',
      error_description: 'The authorization code was already used.',
    })
  })

  it('maps form errors to 400 invalid_request, and other statuses by meaning', async () => {
    const { state } = stateWith()
    const form = oauthErrorResponse(formParamInvalid('redirect_uri', 'redirect_uri is invalid.'), state)
    expect(form.status).toBe(400)
    expect((await json(form)).error).toBe('invalid_request')
    const notFound = oauthErrorResponse(routeNotFound(), state)
    expect(notFound.status).toBe(404)
    expect((await json(notFound)).error).toBe('invalid_request')
    const limited = oauthErrorResponse(
      new AppError(429, [{ code: 'too_many_requests', message: 'slow down' }], {
        headers: { 'retry-after': '9' },
      }),
      state,
    )
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('9')
    expect((await json(limited)).error).toBe('temporarily_unavailable')
    // An environment that cannot be opened right now (503) is temporarily unavailable too.
    const unavailable = oauthErrorResponse(
      new AppError(503, [{ code: 'environment_unavailable', message: 'unavailable' }]),
      state,
    )
    expect(unavailable.status).toBe(503)
    expect((await json(unavailable)).error).toBe('temporarily_unavailable')
  })

  it('answers invalid_client with 401, challenging Basic only when the client tried Basic', async () => {
    const failed = () =>
      new AppError(401, [
        {
          code: 'oauth_client_invalid',
          message: 'invalid client',
          long_message: 'Client authentication failed.',
          meta: oauthMeta('invalid_client'),
        },
      ])
    const basic = new Request('https://clerk.example.test/oauth/token', {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('app:wrong')}` },
    })
    const withBasic = oauthErrorResponse(failed(), stateWith(basic).state)
    expect(withBasic.status).toBe(401)
    expect(withBasic.headers.get('www-authenticate')).toBe('Basic realm="https://clerk.example.test"')
    expect((await json(withBasic)).error).toBe('invalid_client')
    const post = new Request('https://clerk.example.test/oauth/token', { method: 'POST' })
    const inBody = oauthErrorResponse(failed(), stateWith(post).state)
    expect(inBody.status).toBe(401)
    expect(inBody.headers.has('www-authenticate')).toBe(false)
  })

  it('says why a bearer token was refused (RFC 6750 §3)', () => {
    const res = oauthErrorResponse(tokenRevoked(), stateWith().state)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The access token is expired or revoked."',
    )
  })

  it('keeps error_description inside the characters §5.2 allows', async () => {
    const res = oauthErrorResponse(
      new AppError(400, [{ code: 'x', message: 'x', long_message: 'Bad "scope" \\ é — ok' }]),
      stateWith().state,
    )
    expect((await json(res)).error_description).toBe("Bad 'scope' /   ok")
  })

  it('answers anything else with 500 server_error, logged, message kept off the wire', async () => {
    const { state, lines } = stateWith()
    const res = oauthErrorResponse(boom(), state)
    expect(res.status).toBe(500)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    expect(JSON.parse(text).error).toBe('server_error')
    expect(text).not.toContain('hunter2')
    expect(lines[0].msg).toBe('unhandled error')
  })
})

describe('SCIM presenter (RFC 7644 §3.12)', () => {
  it('answers an AppError as a SCIM error body with the status as a string', async () => {
    const res = scimErrorResponse(
      new AppError(404, [
        { code: 'resource_not_found', message: 'not found', long_message: 'No user was found.' },
      ]),
      stateWith().state,
    )
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/scim+json')
    expect(await json(res)).toEqual({
      schemas: [SCIM_ERROR_SCHEMA],
      status: '404',
      detail: 'No user was found.',
    })
  })

  it('maps shared codes to scimTypes: taken → 409 uniqueness, form errors → 400 invalidValue', async () => {
    const taken = scimErrorResponse(formIdentifierExists('email_address'), stateWith().state)
    expect(taken.status).toBe(409)
    expect(await json(taken)).toMatchObject({ status: '409', scimType: 'uniqueness' })
    const invalid = scimErrorResponse(
      formParamInvalid('active', 'active must be a boolean.'),
      stateWith().state,
    )
    expect(invalid.status).toBe(400)
    expect(await json(invalid)).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
      detail: 'active must be a boolean.',
    })
  })

  it('takes an explicit scimType from meta', async () => {
    const res = scimErrorResponse(
      new AppError(400, [
        {
          code: 'scim_filter_invalid',
          message: 'bad filter',
          long_message: 'x',
          meta: scimMeta('invalidFilter'),
        },
      ]),
      stateWith().state,
    )
    expect((await json(res)).scimType).toBe('invalidFilter')
  })

  it('challenges a 401 with Bearer', async () => {
    const res = scimErrorResponse(
      new AppError(401, [
        { code: 'scim_token_invalid', message: 'invalid token', long_message: 'Bad token.' },
      ]),
      stateWith().state,
    )
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect(await json(res)).toEqual({ schemas: [SCIM_ERROR_SCHEMA], status: '401', detail: 'Bad token.' })
  })

  it('answers anything else with 500, logged, message kept off the wire', async () => {
    const { state, lines } = stateWith()
    const res = scimErrorResponse(boom(), state)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '500' })
    expect(text).not.toContain('hunter2')
    expect(lines).toHaveLength(1)
  })
})

describe('HTML error page presenter', () => {
  it('shows the sentence escaped and the trace id, as a page nothing runs on', async () => {
    const res = htmlErrorResponse(
      new AppError(400, [
        {
          code: 'saml_response_invalid',
          message: 'invalid',
          long_message: 'Bad <script>alert("x")</script> & co',
        },
      ]),
      stateWith().state,
    )
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await res.text()
    expect(html).toContain('Bad &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co')
    expect(html).not.toContain('<script>')
    expect(html).toContain('trace-0123456789')
    expect(html).not.toContain('saml_response_invalid')
  })

  it('answers anything else with a 500 page, logged, without message or stack', async () => {
    const { state, lines } = stateWith()
    const res = htmlErrorResponse(boom(), state)
    expect(res.status).toBe(500)
    const html = await res.text()
    expect(html).toContain('Something went wrong')
    expect(html).toContain('trace-0123456789')
    expect(html).not.toContain('hunter2')
    expect(html).not.toContain('secret.ts')
    expect(lines).toHaveLength(1)
  })
})

describe('elysiaPresenter', () => {
  const app = (present: Presenter) =>
    new Elysia({ normalize: false })
      .use(elysiaPresenter(present))
      .post('/things', ({ body }) => body, { body: t.Object({ name: t.String() }) })
      .get('/wrong', () => ({ name: 1 }) as unknown as { name: string }, {
        response: t.Object({ name: t.String() }),
      })
      .get('/revoked', () => {
        throw tokenRevoked()
      })

  const call = (present: Presenter, path: string, init?: RequestInit) => {
    const request = new Request(`https://clerk.example.test${path}`, init)
    const { state, lines } = stateWith(request)
    setRequestState(request, state as any)
    return { res: app(present).handle(request), lines }
  }
  const post = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body })

  it("presents Elysia's own errors in the surface's format, with the dispatcher's trace id", async () => {
    const invalid = await call(scimErrorResponse, '/things', post('{"name": 12}')).res
    expect(invalid.status).toBe(400)
    const text = await invalid.text()
    expect(JSON.parse(text)).toMatchObject({ status: '400', scimType: 'invalidValue' })
    expect(JSON.parse(text).detail).toBe('name is invalid: expected string.')
    expect(text).not.toContain('"type"')
    const parse = await call(oauthErrorResponse, '/things', post('{"name":')).res
    expect(parse.status).toBe(400)
    expect((await json(parse)).error).toBe('invalid_request')
    const missing = await call(htmlErrorResponse, '/nope').res
    expect(missing.status).toBe(404)
    const page = await missing.text()
    expect(page).toContain('Page not found')
    expect(page).toContain('trace-0123456789')
  })

  it('passes AppErrors through with their headers, and makes a response schema failure a logged 500', async () => {
    const revoked = await call(oauthErrorResponse, '/revoked').res
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get('cache-control')).toBe('no-store')
    expect(revoked.headers.get('www-authenticate')).toContain('invalid_token')
    const { res, lines } = call(scimErrorResponse, '/wrong')
    expect((await res).status).toBe(500)
    expect(lines[0].msg).toBe('response failed its schema')
  })
})
