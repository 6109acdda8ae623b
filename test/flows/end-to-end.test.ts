import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { browser, recordingDelivery } from '../helpers/browser'
import { body, createHarness, type Harness } from '../helpers/harness'

const delivery = recordingDelivery()
let h: Harness
beforeAll(async () => {
  h = await createHarness({ delivery })
})
afterAll(() => h.close())
const PASSWORD = 'correct horse battery'

describe('sign-up with an email code, then sign-in with a password', () => {
  it('walks the whole flow and mints a verifiable session token', async () => {
    const b = browser(h)
    const created = await b.json('POST', '/v1/client/sign-ups', {
      email_address: 'ada@example.com',
      password: PASSWORD,
    })
    expect(created.status).toBe(200)
    expect(created.body.response).toMatchObject({
      status: 'missing_requirements',
      unverified_fields: ['email_address'],
      missing_fields: [],
    })
    expect(b.cookie).toBeString()
    const signUpId = created.body.response.id
    const ch = await b.json('POST', `/v1/client/sign-ups/${signUpId}/challenges`, { strategy: 'email_code' })
    expect(ch.status).toBe(200)
    await h.settle()
    const code = delivery.lastCode('ada@example.com')
    const wrong = await b.json(
      'POST',
      `/v1/client/sign-ups/${signUpId}/challenges/${ch.body.response.id}/answer`,
      { code: '000000' === code ? '111111' : '000000' },
    )
    expect(wrong.status).toBe(422)
    expect(wrong.body.errors[0].code).toBe('form_code_incorrect')
    const before = b.cookie
    const done = await b.json(
      'POST',
      `/v1/client/sign-ups/${signUpId}/challenges/${ch.body.response.id}/answer`,
      { code },
    )
    expect(done.status).toBe(200)
    expect(done.body.response.status).toBe('complete')
    expect(b.cookie).not.toBe(before)
    const sid = done.body.response.created_session_id
    expect(done.body.client.last_active_session_id).toBe(sid)
    expect(done.body.client.sessions[0].user.email_addresses[0].email_address).toBe('ada@example.com')

    const token = await b.json('POST', `/v1/client/sessions/${sid}/tokens`, undefined, {
      origin: 'http://localhost:5173',
    })
    expect(token.status).toBe(200)
    const jwks = createLocalJWKSet(await body(await h.request(`https://${h.env.host}/.well-known/jwks.json`)))
    const { payload, protectedHeader } = await jwtVerify(token.body.jwt, jwks, {
      currentDate: new Date(h.clock.now()),
    })
    expect(protectedHeader.alg).toBe('RS256')
    expect(Object.keys(payload).sort()).toEqual([
      'azp',
      'exp',
      'fva',
      'iat',
      'iss',
      'jti',
      'nbf',
      'sid',
      'sub',
      'v',
    ])
    expect(payload).toMatchObject({
      sid,
      v: 2,
      azp: 'http://localhost:5173',
      fva: [0, -1],
      iss: `https://${h.env.host}`,
    })
    expect(payload.exp! - payload.iat!).toBe(60)

    // sign out, then sign in with identifier + password in one call
    expect((await b.json('POST', `/v1/client/sessions/${sid}/end`)).body.response.status).toBe('ended')
    const refused = await b.json('POST', `/v1/client/sessions/${sid}/tokens`)
    expect(refused.status).toBe(401)
    const signIn = await b.json('POST', '/v1/client/sign-ins', {
      identifier: 'ADA@example.com',
      password: PASSWORD,
      strategy: 'password',
    })
    expect(signIn.status).toBe(200)
    expect(signIn.body.response.status).toBe('complete')
    expect(signIn.body.response.created_session_id).toMatch(/^sess_/)
  })
})

describe('JWT templates for the signed-in session', () => {
  it('mints a template token for the session and 404s an unknown template', async () => {
    const b = browser(h)
    await h.bapi('POST', '/v1/users', {
      email_address: ['tpl@example.com'],
      password: PASSWORD,
      first_name: 'Tem',
    })
    const si = await b.json('POST', '/v1/client/sign-ins', {
      identifier: 'tpl@example.com',
      password: PASSWORD,
    })
    const sid = si.body.response.created_session_id
    expect(
      (
        await h.bapi('POST', '/v1/jwt-templates', {
          name: 'supabase',
          claims: { name: '{{user.first_name}}', sid: '{{session.id}}' },
        })
      ).status,
    ).toBe(200)
    const minted = await b.json('POST', `/v1/client/sessions/${sid}/tokens/supabase`, undefined, {
      origin: 'http://localhost:5173',
    })
    expect(minted.status).toBe(200)
    const jwks = createLocalJWKSet(await body(await h.request(`https://${h.env.host}/.well-known/jwks.json`)))
    const { payload } = await jwtVerify(minted.body.jwt, jwks, { currentDate: new Date(h.clock.now()) })
    expect(payload).toMatchObject({
      name: 'Tem',
      sid,
      sub: si.body.response.created_session_id ? payload.sub : '',
      azp: 'http://localhost:5173',
    })
    const unknown = await b.json('POST', `/v1/client/sessions/${sid}/tokens/nope`)
    expect(unknown.status).toBe(404)
    expect(unknown.body.errors[0].code).toBe('resource_not_found')
  })
})
