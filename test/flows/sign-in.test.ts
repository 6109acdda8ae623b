import { describe, expect, it } from 'bun:test'
import { type Browser, browser } from '../helpers/browser'
import type { Harness } from '../helpers/harness'
import {
  bapiJson,
  createUser,
  emailOf,
  events,
  expectError,
  freshHarnesses,
  messages,
  ok,
  PASSWORD,
  patchInstance,
  pathOf,
  row,
  signedIn,
  signIn,
  uniqueEmail,
} from './support'

const fresh = freshHarnesses()
const count = (h: Harness, table: string) => row<{ n: number }>(h, `SELECT count(*) AS n FROM ${table}`).n
const wrongCode = (code: string) => (code === '000000' ? '111111' : '000000')

async function start(b: Browser, identifier: string) {
  const r = ok(await b.json('POST', '/v1/client/sign-ins', { identifier }))
  return r.response
}
async function issue(b: Browser, siaId: string, body: Record<string, unknown>) {
  return b.json('POST', `/v1/client/sign-ins/${siaId}/challenges`, body)
}
const answer = (b: Browser, siaId: string, cid: string, body: Record<string, unknown>) =>
  b.json('POST', `/v1/client/sign-ins/${siaId}/challenges/${cid}/answer`, body)

describe('identifier first', () => {
  it('answers needs_first_factor with the factors the user has', async () => {
    const { h } = await fresh()
    const user = await createUser(h, { first_name: 'Ada' })
    const b = browser(h)
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user).toUpperCase() }),
    )
    const sia = created.response
    expect(sia).toMatchObject({
      object: 'sign_in_attempt',
      status: 'needs_first_factor',
      supported_identifiers: ['email_address'],
      created_session_id: null,
      first_factor_verification: null,
      user_data: null,
    })
    expect(sia.id).toMatch(/^sia_/)
    expect(created.client.sign_in.id).toBe(sia.id)
    const emailId = user.email_addresses[0].id
    expect(sia.supported_first_factors).toEqual([
      { strategy: 'password', safe_identifier: null },
      {
        strategy: 'email_code',
        safe_identifier: `${emailOf(user)[0]}***@example.com`,
        email_address_id: emailId,
        primary: true,
      },
      {
        strategy: 'reset_password_email_code',
        safe_identifier: `${emailOf(user)[0]}***@example.com`,
        email_address_id: emailId,
        primary: true,
      },
    ])
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.id).toBe(sia.id)

    // no identifier yet
    const bare = ok(await browser(h).json('POST', '/v1/client/sign-ins', {})).response
    expect(bare.status).toBe('needs_identifier')
  })

  it('an unknown identifier is 422 form_identifier_not_found and creates nothing', async () => {
    const { h } = await fresh()
    const b = browser(h)
    const before = count(h, 'sign_ins')
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: 'nobody@example.com' }),
      422,
      'form_identifier_not_found',
      'identifier',
    )
    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: 'nobody@example.com',
        password: PASSWORD,
        strategy: 'password',
      }),
      422,
      'form_identifier_not_found',
      'identifier',
    )
    expect(count(h, 'sign_ins')).toBe(before)
  })
})

describe('password', () => {
  it('wrong is 422 form_password_incorrect (nothing completes); right completes', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    expectError(
      await answer(b, sia.id, 'password', { password: 'not the password' }),
      422,
      'form_password_incorrect',
      'password',
    )
    const still = ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`))
    expect(still.response.status).toBe('needs_first_factor')
    expect(still.client.sessions).toEqual([])
    expectError(await answer(b, sia.id, 'password', {}), 422, 'form_param_missing', 'password')

    const done = ok(await answer(b, sia.id, 'password', { password: PASSWORD }))
    expect(done.response.status).toBe('complete')
    expect(done.response.created_session_id).toMatch(/^sess_/)
    expect(done.response.first_factor_verification).toMatchObject({
      strategy: 'password',
      status: 'verified',
    })
    expect(done.client.last_active_session_id).toBe(done.response.created_session_id)
    expect(done.client.last_authentication_strategy).toBe('password')
    const u = ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`))
    expect(u.last_sign_in_at).toBe(h.clock.now())

    // answering a completed sign-in
    const before = count(h, 'sessions')
    expectError(await answer(b, sia.id, 'password', { password: PASSWORD }), 400, 'client_state_invalid')
    expectError(await issue(b, sia.id, { strategy: 'email_code' }), 400, 'client_state_invalid')
    expect(count(h, 'sessions')).toBe(before)
  })

  it('one-shot with a wrong password is 422 and leaves no session', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        password: 'nope nope nope',
        strategy: 'password',
      }),
      422,
      'form_password_incorrect',
      'password',
    )
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), strategy: 'password' }),
      422,
      'form_param_missing',
      'password',
    )
  })
})

describe('email_code', () => {
  it('issue, wrong code, right code; a reused code on the completed sign-in is refused', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    const issued = ok(await issue(b, sia.id, { strategy: 'email_code' }))
    const c = issued.response
    expect(c).toMatchObject({
      object: 'challenge',
      strategy: 'email_code',
      step: 'first_factor',
      status: 'unverified',
      attempts: 0,
      parent_id: sia.id,
      expire_at: h.clock.now() + 10 * 60_000,
      safe_identifier: `${emailOf(user)[0]}***@example.com`,
    })
    expect(c.id).toMatch(/^chl_/)
    expect(issued.client.sign_in.first_factor_verification.id).toBe(c.id)
    await h.settle()
    const code = delivery.lastCode(emailOf(user))
    expect(code).toMatch(/^\d{6}$/)

    expectError(await answer(b, sia.id, c.id, { code: wrongCode(code) }), 422, 'form_code_incorrect', 'code')
    expect(
      ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}`)).response,
    ).toMatchObject({
      status: 'unverified',
      attempts: 1,
    })
    expectError(await answer(b, sia.id, c.id, {}), 422, 'form_param_missing', 'code')

    const done = ok(await answer(b, sia.id, c.id, { code }))
    expect(done.response.status).toBe('complete')
    expect(done.client.last_authentication_strategy).toBe('email_code')
    const sessions = count(h, 'sessions')
    expectError(await answer(b, sia.id, c.id, { code }), 400, 'client_state_invalid')
    expect(count(h, 'sessions')).toBe(sessions)
  })

  it('expires after 10 minutes: 400 verification_expired, nothing completes', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    const c = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    const code = delivery.lastCode(emailOf(user))
    h.clock.advance(10 * 60_000)
    expectError(await answer(b, sia.id, c.id, { code }), 400, 'verification_expired')
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}`)).response.status).toBe(
      'expired',
    )
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_first_factor',
    )
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('fails for good after 5 wrong answers (verification_failed); a new challenge works', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    const c = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    const code = delivery.lastCode(emailOf(user))
    for (let i = 1; i <= 4; i++)
      expectError(
        await answer(b, sia.id, c.id, { code: wrongCode(code) }),
        422,
        'form_code_incorrect',
        'code',
      )
    expectError(await answer(b, sia.id, c.id, { code: wrongCode(code) }), 400, 'verification_failed')
    expectError(await answer(b, sia.id, c.id, { code }), 400, 'verification_failed')
    expect(
      ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}`)).response,
    ).toMatchObject({
      status: 'failed',
      attempts: 5,
    })
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_first_factor',
    )

    const again = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    const code2 = delivery.lastCode(emailOf(user))
    expect(ok(await answer(b, sia.id, again.id, { code: code2 })).response.status).toBe('complete')
  })

  it('a resend within 30 s is 429 verification_code_too_many_requests with Retry-After', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    const first = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    const firstCode = delivery.lastCode(emailOf(user))
    const sent = delivery.sent.length

    h.clock.advance(10_000)
    const refused = await issue(b, sia.id, { strategy: 'email_code' })
    expectError(refused, 429, 'verification_code_too_many_requests')
    expect(refused.res.headers.get('retry-after')).toBe('20')
    await h.settle()
    expect(delivery.sent.length).toBe(sent)
    // the first challenge still stands
    expect(
      ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${first.id}`)).response.status,
    ).toBe('unverified')

    h.clock.advance(20_000)
    const second = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    const secondCode = delivery.lastCode(emailOf(user))
    // the new code replaces the old one
    expectError(await answer(b, sia.id, first.id, { code: firstCode }), 400, 'verification_expired')
    expect(ok(await answer(b, sia.id, second.id, { code: secondCode })).response.status).toBe('complete')
  })

  it('a strategy the user cannot use is refused', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    expectError(
      await issue(b, sia.id, { strategy: 'phone_code' }),
      422,
      'strategy_for_user_invalid',
      'strategy',
    )
    expectError(
      await issue(b, sia.id, { strategy: 'email_link', redirect_url: 'http://localhost:3000/cb' }),
      422,
      'strategy_for_user_invalid',
      'strategy',
    )
    expectError(
      await issue(b, sia.id, { strategy: 'email_code', email_address_id: 'idn_01HZZZZZZZZZZZZZZZZZZZZZZZ' }),
      422,
      'form_param_value_invalid',
      'email_address_id',
    )
  })
})

describe('phone_code', () => {
  async function phoneEnv() {
    const f = await fresh()
    await patchInstance(f.h, {
      identifiers: { phone_number: { enabled: true, used_for_first_factor: true } },
      first_factors: ['password', 'email_code', 'phone_code'],
      sms: { from_number: '+15005550006' },
    })
    return f
  }

  it('signs in with a code sent by SMS', async () => {
    const { h, delivery } = await phoneEnv()
    const user = await createUser(h, { phone_number: ['+14155551234'] })
    const b = browser(h)
    const sia = await start(b, '+1 (415) 555-1234')
    expect(sia.supported_identifiers).toEqual(['email_address', 'phone_number'])
    const factor = sia.supported_first_factors.find((f: any) => f.strategy === 'phone_code')
    expect(factor).toMatchObject({ phone_number_id: user.phone_numbers[0].id, primary: true })
    expect(factor.safe_identifier).toEndWith('1234')
    expect(factor.safe_identifier).not.toContain('555')
    const c = ok(await issue(b, sia.id, { strategy: 'phone_code' })).response
    await h.settle()
    const sms = delivery.sent.at(-1)!
    expect(sms).toMatchObject({ channel: 'sms', to: '+14155551234', from: '+15005550006' })
    const code = delivery.lastCode('+14155551234')
    expectError(await answer(b, sia.id, c.id, { code: wrongCode(code) }), 422, 'form_code_incorrect', 'code')
    const done = ok(await answer(b, sia.id, c.id, { code }))
    expect(done.response.status).toBe('complete')
    expect(done.client.last_authentication_strategy).toBe('phone_code')
  })

  it('test phone numbers take 424242 and nothing is sent', async () => {
    const { h, delivery } = await phoneEnv()
    await createUser(h, { phone_number: ['+15555550142'] })
    const b = browser(h)
    const res = ok(
      await b.json('POST', '/v1/client/sign-ins', { identifier: '+15555550142', strategy: 'phone_code' }),
    )
    const c = res.response.first_factor_verification
    expect(c).toMatchObject({ strategy: 'phone_code', status: 'unverified' })
    await h.settle()
    expect(delivery.sent).toEqual([])
    expect(ok(await answer(b, res.response.id, c.id, { code: '424242' })).response.status).toBe('complete')
  })
})

describe('enumeration protection', () => {
  it('offers an unknown identifier the same factors, in the same shape, as a known one', async () => {
    const { h } = await fresh()
    await patchInstance(h, { enumeration_protection: true })
    const user = await createUser(h)
    const known = await start(browser(h), emailOf(user))
    const unknown = await start(browser(h), 'ghost@example.com')
    const shape = (factors: any[]) => factors.map((f) => `${f.strategy}:${Object.keys(f).sort().join(',')}`)
    expect(shape(unknown.supported_first_factors)).toEqual(shape(known.supported_first_factors))
  })

  it('an unknown identifier proceeds and fails like a wrong password', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, { enumeration_protection: true })
    const user = await createUser(h)

    const b = browser(h)
    const unknown = await start(b, 'ghost@example.com')
    expect(unknown.status).toBe('needs_first_factor')

    expectError(
      await answer(b, unknown.id, 'password', { password: PASSWORD }),
      422,
      'form_password_or_identifier_incorrect',
      'password',
    )
    // a known user with a wrong password gets the very same error
    const kb = browser(h)
    const k = await start(kb, emailOf(user))
    expectError(
      await answer(kb, k.id, 'password', { password: 'wrong wrong wrong' }),
      422,
      'form_password_or_identifier_incorrect',
      'password',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: 'ghost@example.com',
        password: PASSWORD,
        strategy: 'password',
      }),
      422,
      'form_password_or_identifier_incorrect',
      'password',
    )

    // an email code "sent" to nobody: a challenge like any other, nothing goes out, no code works
    const c = ok(await issue(b, unknown.id, { strategy: 'email_code' })).response
    expect(c).toMatchObject({ strategy: 'email_code', status: 'unverified' })
    await h.settle()
    expect(delivery.sent.filter((m) => m.to === 'ghost@example.com')).toEqual([])
    expectError(await answer(b, unknown.id, c.id, { code: '123456' }), 422, 'form_code_incorrect', 'code')
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })
})

describe('reset password', () => {
  it('reset code → needs_new_password → reset-password (policy, same password) → complete', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, { password: { require_numbers: true } })
    const user = await createUser(h, { password: 'correct horse battery 1' })
    const other = browser(h)
    const otherSid = await signIn(other, emailOf(user), 'correct horse battery 1')

    const b = browser(h)
    const sia = await start(b, emailOf(user))
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/reset-password`, { password: 'brand new pass 2' }),
      400,
      'client_state_invalid',
    )
    const c = ok(await issue(b, sia.id, { strategy: 'reset_password_email_code' })).response
    expect(c).toMatchObject({ strategy: 'reset_password_email_code', step: 'reset_password' })
    await h.settle()
    const mail = delivery.sent.at(-1)!
    expect(mail.subject).toContain('reset')
    const code = delivery.lastCode(emailOf(user))
    const after = ok(await answer(b, sia.id, c.id, { code }))
    expect(after.response.status).toBe('needs_new_password')
    expect(after.client.sessions).toEqual([])
    // the same code again
    expectError(await answer(b, sia.id, c.id, { code }), 400, 'verification_already_verified')

    const reset = (password: string, extra: Record<string, unknown> = {}) =>
      b.json('POST', `/v1/client/sign-ins/${sia.id}/reset-password`, { password, ...extra })
    expectError(await reset('short1'), 422, 'form_password_length_too_short', 'password')
    expectError(await reset('no digits in here'), 422, 'form_password_no_number', 'password')
    expectError(await reset('correct horse battery 1'), 422, 'form_new_password_matches_current', 'password')
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe(
      'needs_new_password',
    )

    const done = ok(await reset('brand new pass 2', { sign_out_of_other_sessions: true }))
    expect(done.response.status).toBe('complete')
    expect(done.response.created_session_id).toMatch(/^sess_/)

    // the other device was signed out, with an event like every revocation
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${otherSid}`)).status).toBe('revoked')
    expectError(
      await other.json('POST', `/v1/client/sessions/${otherSid}/tokens`),
      401,
      'session_token_refused',
    )

    // old password out, new one in
    const v = browser(h)
    expectError(
      await v.json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        password: 'correct horse battery 1',
      }),
      422,
      'form_password_incorrect',
    )
    await signIn(browser(h), emailOf(user), 'brand new pass 2')
    expect((await events(h, 'session.revoked')).map((e) => e.data.id)).toContain(otherSid)
  })
})

describe('lockout, bans', () => {
  it('locks after lockout.max_attempts failures (403 user_locked) until the duration passes', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, { lockout: { enabled: true, max_attempts: 3, duration_seconds: 600 } })
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    expectError(
      await answer(b, sia.id, 'password', { password: 'wrong 1 wrong' }),
      422,
      'form_password_incorrect',
    )
    // a wrong code counts too
    const c = ok(await issue(b, sia.id, { strategy: 'email_code' })).response
    await h.settle()
    expectError(
      await answer(b, sia.id, c.id, { code: wrongCode(delivery.lastCode(emailOf(user))) }),
      422,
      'form_code_incorrect',
    )
    const third = await answer(b, sia.id, 'password', { password: 'wrong 3 wrong' })
    expect([403, 422]).toContain(third.status)

    const locked = await answer(b, sia.id, 'password', { password: PASSWORD })
    expectError(locked, 403, 'user_locked')
    expect(locked.body.errors[0].meta.lockout_expires_in_seconds).toBe(600)
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) }),
      403,
      'user_locked',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), password: PASSWORD }),
      403,
      'user_locked',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).locked).toBe(true)
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])

    h.clock.advance(600_000)
    await signIn(browser(h), emailOf(user))
  })

  it('a banned user gets 403 user_banned and their sessions are revoked', async () => {
    const { h } = await fresh()
    const { b, sid, user } = await signedIn(h)
    ok(await bapiJson(h, 'POST', `/v1/users/${user.id}/ban`))
    expectError(await b.json('POST', `/v1/client/sessions/${sid}/tokens`), 401, 'session_token_refused')
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) }),
      403,
      'user_banned',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), password: PASSWORD }),
      403,
      'user_banned',
    )
    // banned mid-flow
    const other = await createUser(h)
    const ob = browser(h)
    const sia = await start(ob, emailOf(other))
    ok(await bapiJson(h, 'POST', `/v1/users/${other.id}/ban`))
    expectError(await answer(ob, sia.id, 'password', { password: PASSWORD }), 403, 'user_banned')
    expectError(await issue(ob, sia.id, { strategy: 'email_code' }), 403, 'user_banned')
    expect(ok(await ob.json('GET', '/v1/client')).response.sessions).toEqual([])
  })
})

describe('sign-in tokens (tickets)', () => {
  it('signs in once with a ticket; reused, revoked, expired and bogus tickets are refused', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const t = ok(await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: user.id }))
    expect(t).toMatchObject({ object: 'sign_in_token', user_id: user.id, status: 'pending' })
    expect(t.token).toBeString()
    expect(t.url).toBe(`https://${h.env.host}/v1/tickets/accept?ticket=${encodeURIComponent(t.token)}`)

    const b = browser(h)
    const done = ok(await b.json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t.token }))
    expect(done.response.status).toBe('complete')
    expect(done.client.last_authentication_strategy).toBe('ticket')

    const sessions = count(h, 'sessions')
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t.token }),
      400,
      'sign_in_token_already_used_code',
    )
    expectError(
      await bapiJson(h, 'POST', `/v1/sign-in-tokens/${t.id}/revoke`),
      400,
      'sign_in_token_cannot_be_revoked',
    )

    const t2 = ok(await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: user.id }))
    const revoked = ok(await bapiJson(h, 'POST', `/v1/sign-in-tokens/${t2.id}/revoke`))
    expect(revoked.status).toBe('revoked')
    expect(revoked.token).toBeUndefined()
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t2.token }),
      400,
      'sign_in_token_revoked_code',
    )

    const t3 = ok(
      await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: user.id, expires_in_seconds: 60 }),
    )
    h.clock.advance(60_000)
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t3.token }),
      400,
      'ticket_expired_code',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: 'bogus' }),
      400,
      'ticket_invalid_code',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket' }),
      422,
      'form_param_missing',
      'ticket',
    )
    expect(count(h, 'sessions')).toBe(sessions)

    expectError(
      await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: 'user_01HZZZZZZZZZZZZZZZZZZZZZZZ' }),
      422,
      'form_param_value_invalid',
      'user_id',
    )
    expectError(await bapiJson(h, 'POST', '/v1/sign-in-tokens/nope/revoke'), 404, 'resource_not_found')
  })

  it('the ticket URL forwards to the app with __authn_ticket', async () => {
    const { h } = await fresh()
    await patchInstance(h, { redirect_urls: ['https://app.example.com/sign-in'] })
    const user = await createUser(h)
    const t = ok(await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: user.id }))
    const res = await browser(h).call('GET', pathOf(t.url))
    expect(res.status).toBe(303)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin + to.pathname).toBe('https://app.example.com/sign-in')
    expect(to.searchParams.get('__authn_ticket')).toBe(t.token)
    expect(to.searchParams.get('__authn_status')).toBe('sign_in')
    // the ticket is not used up by forwarding
    const done = ok(
      await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t.token }),
    )
    expect(done.response.status).toBe('complete')
  })
})

describe("another client's sign-in", () => {
  it('is 404 on every sign-in route, and stays as it was', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const owner = browser(h)
    const sia = await start(owner, emailOf(user))
    const c = ok(await issue(owner, sia.id, { strategy: 'email_code' })).response
    const intruder = browser(h)
    ok(await intruder.json('POST', '/v1/client'))
    for (const [method, path, payload] of [
      ['GET', `/v1/client/sign-ins/${sia.id}`, undefined],
      ['POST', `/v1/client/sign-ins/${sia.id}/challenges`, { strategy: 'email_code' }],
      ['POST', `/v1/client/sign-ins/${sia.id}/challenges/password/answer`, { password: PASSWORD }],
      ['POST', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}/answer`, { code: '123456' }],
      ['GET', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}`, undefined],
      ['POST', `/v1/client/sign-ins/${sia.id}/reset-password`, { password: 'whatever whatever' }],
    ] as const) {
      expectError(await intruder.json(method, path, payload), 404, 'resource_not_found')
      expectError(await browser(h).json(method, path, payload), 404, 'resource_not_found')
    }
    expect(
      ok(await owner.json('GET', `/v1/client/sign-ins/${sia.id}/challenges/${c.id}`)).response,
    ).toMatchObject({
      status: 'unverified',
      attempts: 0,
    })
    expect(ok(await intruder.json('GET', '/v1/client')).response.sessions).toEqual([])
    // a challenge id of another sign-in is 404 as well
    const sia2 = await start(intruder, emailOf(user))
    expectError(await answer(intruder, sia2.id, c.id, { code: '123456' }), 404, 'resource_not_found')
  })
})

describe('messages of a sign-in', () => {
  it('records the code email', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    ok(await issue(b, sia.id, { strategy: 'email_code' }))
    await h.settle()
    const m = (await messages(h)).find((x) => x.to === emailOf(user))
    expect(m).toMatchObject({ channel: 'email', template: 'verification_code', status: 'sent', attempts: 1 })
    expect(uniqueEmail()).not.toBe(emailOf(user))
  })
})

describe('settings and cooldowns that must hold on every path', () => {
  it('password off as a first factor: a one-shot password sign-in is refused too', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    await patchInstance(h, { first_factors: ['email_code'], password: { required: false } })
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    expect(sia.supported_first_factors.map((f: any) => f.strategy)).not.toContain('password')
    expectError(
      await answer(b, sia.id, 'password', { password: PASSWORD }),
      422,
      'strategy_for_user_invalid',
      'strategy',
    )
    const oneShot = await browser(h).json('POST', '/v1/client/sign-ins', {
      identifier: emailOf(user),
      password: PASSWORD,
      strategy: 'password',
    })
    expectError(oneShot, 422, 'strategy_for_user_invalid', 'strategy')
    expect(count(h, 'sessions')).toBe(0)
  })

  it('switching to a password challenge and back does not skip the 30 s resend cooldown', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = await start(b, emailOf(user))
    ok(await issue(b, sia.id, { strategy: 'email_code' }))
    ok(await issue(b, sia.id, { strategy: 'password' }))
    const again = await issue(b, sia.id, { strategy: 'email_code' })
    await h.settle()
    expect(delivery.sent.filter((m) => m.to === emailOf(user))).toHaveLength(1)
    expectError(again, 429, 'verification_code_too_many_requests')
  })

  it('the resend cooldown is per identifier: a new sign-in does not send a second code within 30 s', async () => {
    const { h, delivery } = await fresh()
    const user = await createUser(h)
    ok(
      await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        strategy: 'email_code',
      }),
    )
    const second = await browser(h).json('POST', '/v1/client/sign-ins', {
      identifier: emailOf(user),
      strategy: 'email_code',
    })
    await h.settle()
    expect(delivery.sent.filter((m) => m.to === emailOf(user))).toHaveLength(1)
    expectError(second, 429, 'verification_code_too_many_requests')
  })
})
