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
  ok,
  PASSWORD,
  patchInstance,
  pathOf,
  row,
  signIn,
  uniqueEmail,
} from './support'

const fresh = freshHarnesses()
const count = (h: Harness, table: string) => row<{ n: number }>(h, `SELECT count(*) AS n FROM ${table}`).n

const create = (b: Browser, body: Record<string, unknown>) => b.json('POST', '/v1/client/sign-ups', body)
const patch = (b: Browser, id: string, body: Record<string, unknown>) =>
  b.json('PATCH', `/v1/client/sign-ups/${id}`, body)
const issue = (b: Browser, id: string, body: Record<string, unknown>) =>
  b.json('POST', `/v1/client/sign-ups/${id}/challenges`, body)
const answer = (b: Browser, id: string, cid: string, body: Record<string, unknown>) =>
  b.json('POST', `/v1/client/sign-ups/${id}/challenges/${cid}/answer`, body)

describe('fields from the instance settings', () => {
  it('default: email (verified) and password required, names optional', async () => {
    const { h, delivery } = await fresh()
    const b = browser(h)
    const email = uniqueEmail('new')
    const created = ok(await create(b, { email_address: email }))
    const su = created.response
    expect(su).toMatchObject({
      object: 'sign_up_attempt',
      status: 'missing_requirements',
      required_fields: ['email_address', 'password'],
      optional_fields: ['first_name', 'last_name'],
      missing_fields: ['password'],
      unverified_fields: ['email_address'],
      email_address: email,
      password_enabled: false,
      created_user_id: null,
      created_session_id: null,
      abandon_at: h.clock.now() + 24 * 3600_000,
    })
    expect(su.id).toMatch(/^sua_/)
    expect(su.verifications.email_address).toMatchObject({
      status: 'unverified',
      supported_strategies: ['email_code'],
      next_action: 'needs_prepare',
    })
    expect(created.client.sign_up.id).toBe(su.id)

    const withPassword = ok(await patch(b, su.id, { password: PASSWORD, first_name: 'Grace' })).response
    expect(withPassword).toMatchObject({
      missing_fields: [],
      unverified_fields: ['email_address'],
      first_name: 'Grace',
    })
    expect(withPassword.password_enabled).toBe(true)
    expect(JSON.stringify(withPassword)).not.toContain(PASSWORD)

    const c = ok(await issue(b, su.id, { strategy: 'email_code' })).response
    expect(c).toMatchObject({
      strategy: 'email_code',
      step: 'verification',
      status: 'unverified',
      parent_type: 'sign_up',
    })
    await h.settle()
    const done = ok(await answer(b, su.id, c.id, { code: delivery.lastCode(email) }))
    expect(done.response).toMatchObject({ status: 'complete', missing_fields: [], unverified_fields: [] })
    const userId = done.response.created_user_id
    const sid = done.response.created_session_id
    expect(done.client.last_active_session_id).toBe(sid)
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user).toMatchObject({ first_name: 'Grace', password_enabled: true })
    expect(user.email_addresses[0]).toMatchObject({
      email_address: email,
      verification: { status: 'verified' },
    })
    expect((await events(h, 'user.created')).map((e) => e.data.id)).toContain(userId)
    expect((await events(h, 'session.created')).map((e) => e.data.id)).toContain(sid)
    await signIn(browser(h), email)

    // a completed sign-up takes no more changes
    expectError(await patch(b, su.id, { first_name: 'Other' }), 400, 'client_state_invalid')
    expectError(await issue(b, su.id, { strategy: 'email_code' }), 400, 'client_state_invalid')
  })

  it('names required; names off refuse the field', async () => {
    const { h } = await fresh()
    await patchInstance(h, { names: { first_name: 'required', last_name: 'off' } })
    const b = browser(h)
    const su = ok(await create(b, { email_address: `x+authn_test@example.com`, password: PASSWORD })).response
    expect(su.required_fields).toEqual(['email_address', 'password', 'first_name'])
    expect(su.optional_fields).toEqual([])
    expect(su.missing_fields).toEqual(['first_name'])
    expectError(await patch(b, su.id, { last_name: 'Hopper' }), 422, 'form_param_unknown', 'last_name')
    const patched = ok(await patch(b, su.id, { first_name: 'Grace' })).response
    expect(patched.missing_fields).toEqual([])
  })

  it('username: required, validated, unique, then usable to sign in', async () => {
    const { h } = await fresh()
    await patchInstance(h, {
      identifiers: { username: { enabled: true, required: true, used_for_first_factor: true } },
    })
    await createUser(h, { username: 'taken_name' })
    const b = browser(h)
    const su = ok(await create(b, { email_address: 'u+authn_test@example.com', password: PASSWORD })).response
    expect(su.missing_fields).toEqual(['username'])
    expectError(await patch(b, su.id, { username: 'ab' }), 422, 'form_username_invalid_length', 'username')
    expectError(
      await patch(b, su.id, { username: 'has space' }),
      422,
      'form_username_invalid_character',
      'username',
    )
    expectError(await patch(b, su.id, { username: 'Taken_Name' }), 422, 'form_identifier_exists', 'username')
    expect(ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response.username).toBeNull()
    const p = ok(await patch(b, su.id, { username: 'New_Name' })).response
    expect(p).toMatchObject({ username: 'new_name', missing_fields: [] })
    const c = ok(await issue(b, su.id, { strategy: 'email_code' })).response
    expect(ok(await answer(b, su.id, c.id, { code: '424242' })).response.status).toBe('complete')
    ok(
      await b.json(
        'POST',
        `/v1/client/sessions/${ok(await b.json('GET', '/v1/client')).response.last_active_session_id}/end`,
      ),
    )
    await signIn(b, 'new_name')
  })

  it('phone number verified by phone_code (SMS), alongside the email', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, {
      identifiers: { phone_number: { enabled: true, required: true } },
      sms: { from_number: '+15005550006' },
    })
    const b = browser(h)
    const email = uniqueEmail('ph')
    const su = ok(
      await create(b, { email_address: email, phone_number: '+1 415 555 7777', password: PASSWORD }),
    ).response
    expect(su.required_fields).toEqual(['email_address', 'phone_number', 'password'])
    expect(su.unverified_fields).toEqual(['email_address', 'phone_number'])
    expect(su.phone_number).toBe('+14155557777')

    const pc = ok(await issue(b, su.id, { strategy: 'phone_code' })).response
    expect(pc.strategy).toBe('phone_code')
    await h.settle()
    expect(delivery.sent.at(-1)).toMatchObject({ channel: 'sms', to: '+14155557777' })
    const afterPhone = ok(await answer(b, su.id, pc.id, { code: delivery.lastCode('+14155557777') })).response
    expect(afterPhone).toMatchObject({ status: 'missing_requirements', unverified_fields: ['email_address'] })
    expect(afterPhone.verifications.phone_number.status).toBe('verified')
    expectError(await issue(b, su.id, { strategy: 'phone_code' }), 400, 'verification_already_verified')

    const ec = ok(await issue(b, su.id, { strategy: 'email_code' })).response
    await h.settle()
    const done = ok(await answer(b, su.id, ec.id, { code: delivery.lastCode(email) })).response
    expect(done.status).toBe('complete')
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${done.created_user_id}`))
    expect(user.phone_numbers[0]).toMatchObject({
      phone_number: '+14155557777',
      verification: { status: 'verified' },
    })
    expect(user.primary_phone_number_id).toBe(user.phone_numbers[0].id)

    expectError(await issue(b, su.id, { strategy: 'sms_magic' }), 400, 'client_state_invalid')
  })

  it('bad strategies and missing identifiers for a challenge', async () => {
    const { h } = await fresh()
    const b = browser(h)
    const su = ok(await create(b, { password: PASSWORD })).response
    expect(su.missing_fields).toEqual(['email_address'])
    expectError(await issue(b, su.id, { strategy: 'email_code' }), 422, 'form_param_missing', 'email_address')
    expectError(await issue(b, su.id, { strategy: 'phone_code' }), 422, 'form_param_missing', 'phone_number')
    expectError(
      await issue(b, su.id, { strategy: 'carrier_pigeon' }),
      422,
      'verification_strategy_invalid',
      'strategy',
    )
    expectError(
      await create(browser(h), { phone_number: '+14155550000' }),
      422,
      'form_param_unknown',
      'phone_number',
    )
    expectError(
      await create(browser(h), { email_address: 'not-an-email' }),
      422,
      'form_param_format_invalid',
      'email_address',
    )
  })

  it('password policy errors', async () => {
    const { h } = await fresh()
    const b = browser(h)
    const email = 'pw+authn_test@example.com'
    expectError(
      await create(b, { email_address: email, password: 'short' }),
      422,
      'form_password_length_too_short',
      'password',
    )
    expectError(
      await create(b, { email_address: email, password: 'x'.repeat(73) }),
      422,
      'form_password_length_too_long',
      'password',
    )
    await patchInstance(h, {
      password: {
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_special_char: true,
      },
    })
    expectError(
      await create(b, { email_address: email, password: 'abcdefgh1!' }),
      422,
      'form_password_no_uppercase',
      'password',
    )
    expectError(
      await create(b, { email_address: email, password: 'ABCDEFGH1!' }),
      422,
      'form_password_no_lowercase',
      'password',
    )
    expectError(
      await create(b, { email_address: email, password: 'Abcdefgh!!' }),
      422,
      'form_password_no_number',
      'password',
    )
    expectError(
      await create(b, { email_address: email, password: 'Abcdefgh12' }),
      422,
      'form_password_no_special_char',
      'password',
    )
    expect(count(h, 'sign_ups')).toBe(0)
    ok(await create(b, { email_address: email, password: 'Abcdefgh1!' }))
  })
})

describe('uniqueness and modes', () => {
  it('an email that is taken is 422 form_identifier_exists on create and on PATCH', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const before = count(h, 'sign_ups')
    expectError(
      await create(b, { email_address: emailOf(user).toUpperCase(), password: PASSWORD }),
      422,
      'form_identifier_exists',
      'email_address',
    )
    expect(count(h, 'sign_ups')).toBe(before)
    const su = ok(await create(b, { email_address: uniqueEmail(), password: PASSWORD })).response
    expectError(
      await patch(b, su.id, { email_address: emailOf(user) }),
      422,
      'form_identifier_exists',
      'email_address',
    )
    expect(ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response.email_address).toBe(
      su.email_address,
    )
  })

  it('restricted mode: 403 sign_up_mode_restricted without a ticket; waitlist mode likewise', async () => {
    const { h } = await fresh()
    await patchInstance(h, { sign_up: { mode: 'restricted' } })
    const b = browser(h)
    expectError(
      await create(b, { email_address: uniqueEmail(), password: PASSWORD }),
      403,
      'sign_up_mode_restricted',
    )
    expect(count(h, 'sign_ups')).toBe(0)
    const inv = ok(
      await bapiJson(h, 'POST', '/v1/invitations', { email_address: 'invited@example.com', notify: false }),
    )
    const done = ok(
      await create(b, { ticket: new URL(inv.url).searchParams.get('ticket'), password: PASSWORD }),
    )
    expect(done.response.status).toBe('complete')

    await patchInstance(h, { sign_up: { mode: 'waitlist' } })
    expectError(
      await create(browser(h), { email_address: uniqueEmail(), password: PASSWORD }),
      403,
      'sign_up_restricted_waitlist',
    )
  })
})

describe('PATCH and changes', () => {
  it('changing the email resets its verification; unknown params are refused', async () => {
    const { h } = await fresh()
    const b = browser(h)
    const su = ok(await create(b, { email_address: 'a+authn_test@example.com', password: PASSWORD })).response
    ok(await issue(b, su.id, { strategy: 'email_code' }))
    expect(
      ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response.verifications.email_address
        .next_action,
    ).toBe('needs_attempt')
    const changed = ok(await patch(b, su.id, { email_address: 'b+authn_test@example.com' })).response
    expect(changed).toMatchObject({
      email_address: 'b+authn_test@example.com',
      unverified_fields: ['email_address'],
    })
    expect(changed.verifications.email_address.next_action).toBe('needs_prepare')
    expectError(await patch(b, su.id, { emial: 'typo' }), 422, 'form_param_unknown', 'emial')
    expectError(await patch(b, su.id, { first_name: 42 }), 422, 'form_param_format_invalid', 'first_name')
    expectError(await patch(b, su.id, { ticket: 'anything' }), 422, 'form_param_unknown', 'ticket')
  })

  it('a code sent to the old address does not verify a new one set by PATCH', async () => {
    const { h, delivery } = await fresh()
    const b = browser(h)
    const mine = uniqueEmail('attacker')
    const su = ok(await create(b, { email_address: mine, password: PASSWORD })).response
    const c = ok(await issue(b, su.id, { strategy: 'email_code' })).response
    await h.settle()
    const code = delivery.lastCode(mine)
    ok(await patch(b, su.id, { email_address: 'victim@example.com' }))
    const stale = await answer(b, su.id, c.id, { code })
    expect(stale.status).toBeGreaterThanOrEqual(400)
    expect(stale.status).toBeLessThan(500)
    const after = ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response
    expect(after).toMatchObject({ status: 'missing_requirements', unverified_fields: ['email_address'] })
    expect(count(h, 'users')).toBe(0)
  })

  it("another client's sign-up is 404", async () => {
    const { h } = await fresh()
    const owner = browser(h)
    const su = ok(await create(owner, { email_address: 'o+authn_test@example.com' })).response
    const c = ok(await issue(owner, su.id, { strategy: 'email_code' })).response
    const other = browser(h)
    ok(await other.json('POST', '/v1/client'))
    for (const [method, path, payload] of [
      ['GET', `/v1/client/sign-ups/${su.id}`, undefined],
      ['PATCH', `/v1/client/sign-ups/${su.id}`, { password: PASSWORD }],
      ['POST', `/v1/client/sign-ups/${su.id}/challenges`, { strategy: 'email_code' }],
      ['POST', `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`, { code: '424242' }],
      ['GET', `/v1/client/sign-ups/${su.id}/challenges/${c.id}`, undefined],
    ] as const) {
      expectError(await other.json(method, path, payload), 404, 'resource_not_found')
    }
    expect(ok(await owner.json('GET', `/v1/client/sign-ups/${su.id}`)).response).toMatchObject({
      password_enabled: false,
      status: 'missing_requirements',
    })
  })

  it('is abandoned after 24 h without progress (reads at once, the job persists it)', async () => {
    const { h } = await fresh()
    const b = browser(h)
    const su = ok(await create(b, { email_address: 'late+authn_test@example.com' })).response
    h.clock.advance(23 * 3600_000)
    // progress pushes the deadline
    const p = ok(await patch(b, su.id, { first_name: 'Late' })).response
    expect(p.abandon_at).toBe(h.clock.now() + 24 * 3600_000)
    h.clock.advance(24 * 3600_000)
    expect(ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response.status).toBe('abandoned')
    expectError(await patch(b, su.id, { password: PASSWORD }), 400, 'client_state_invalid')
    expectError(await issue(b, su.id, { strategy: 'email_code' }), 400, 'client_state_invalid')
    await h.rt.scheduler.tick()
    expect(row<{ status: string }>(h, 'SELECT status FROM sign_ups WHERE id = ?', su.id).status).toBe(
      'abandoned',
    )
    expect(count(h, 'users')).toBe(0)
  })
})

describe('email link sign-up', () => {
  it('needs email_link enabled and an allowed redirect_url; opening the link completes it', async () => {
    const { h, delivery } = await fresh()
    const b = browser(h)
    const email = uniqueEmail('link')
    const su = ok(await create(b, { email_address: email, password: PASSWORD })).response
    const redirect = 'http://localhost:5173/verified'
    expectError(
      await issue(b, su.id, { strategy: 'email_link', redirect_url: redirect }),
      422,
      'verification_strategy_invalid',
      'strategy',
    )
    await patchInstance(h, { first_factors: ['password', 'email_code', 'email_link'] })
    expect(
      ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`)).response.verifications.email_address
        .supported_strategies,
    ).toEqual(['email_code', 'email_link'])
    expectError(await issue(b, su.id, { strategy: 'email_link' }), 422, 'form_param_missing', 'redirect_url')
    expectError(
      await issue(b, su.id, { strategy: 'email_link', redirect_url: 'https://evil.example.com/x' }),
      422,
      'invalid_redirect_url',
      'redirect_url',
    )
    const c = ok(await issue(b, su.id, { strategy: 'email_link', redirect_url: redirect })).response
    expectError(await answer(b, su.id, c.id, { code: '123456' }), 400, 'verification_strategy_invalid')
    await h.settle()
    const link = delivery.lastLink(email)
    expect(link).toStartWith(`https://${h.env.host}/v1/client/handshake?__authn_ticket=`)
    const before = b.cookie
    const res = await b.call('GET', pathOf(link))
    expect(res.status).toBe(303)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin + to.pathname).toBe(redirect)
    expect(to.searchParams.get('__authn_status')).toBe('verified')
    const sid = to.searchParams.get('__authn_created_session')
    expect(sid).toMatch(/^sess_/)
    expect(b.cookie).not.toBe(before)
    const done = ok(await b.json('GET', `/v1/client/sign-ups/${su.id}`))
    expect(done.response).toMatchObject({ status: 'complete', created_session_id: sid })
    expect(ok(await b.json('GET', `/v1/client/sign-ups/${su.id}/challenges/${c.id}`)).response.status).toBe(
      'verified',
    )
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${done.response.created_user_id}`))
    expect(user.email_addresses[0].verification).toMatchObject({ status: 'verified', strategy: 'email_link' })
  })
})

describe('invitations', () => {
  it('notify emails a ticket link; accepting forwards with the ticket; sign-up completes and copies metadata', async () => {
    const { h, delivery } = await fresh()
    // A stored redirect_url must be one of the app's URLs.
    await patchInstance(h, { allowed_origins: ['https://app.example.com'] })
    const inv = ok(
      await bapiJson(h, 'POST', '/v1/invitations', {
        email_address: 'Invitee@Example.com',
        public_metadata: { plan: 'team', seats: 3 },
        redirect_url: 'https://app.example.com/accept',
        notify: true,
      }),
    )
    expect(inv).toMatchObject({
      object: 'invitation',
      email_address: 'invitee@example.com',
      status: 'pending',
    })
    await h.settle()
    const mail = delivery.sent.find((m) => m.to === 'invitee@example.com')!
    expect(mail.channel).toBe('email')
    const link = delivery.lastLink('invitee@example.com')
    expect(link).toBe(inv.url)
    expect(link).toStartWith(`https://${h.env.host}/v1/tickets/accept?ticket=`)

    const b = browser(h)
    const res = await b.call('GET', pathOf(link))
    expect(res.status).toBe(303)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin + to.pathname).toBe('https://app.example.com/accept')
    expect(to.searchParams.get('__authn_status')).toBe('sign_up')
    const ticket = to.searchParams.get('__authn_ticket')!
    expect(ticket).toBe(new URL(link).searchParams.get('ticket')!)

    expectError(
      await create(browser(h), { ticket, email_address: 'someone.else@example.com', password: PASSWORD }),
      422,
      'form_param_value_invalid',
      'email_address',
    )
    // ticket only: the email is proven, the password is still missing
    const su = ok(await create(b, { ticket })).response
    expect(su).toMatchObject({
      status: 'missing_requirements',
      email_address: 'invitee@example.com',
      missing_fields: ['password'],
      unverified_fields: [],
    })
    const done = ok(await patch(b, su.id, { password: PASSWORD })).response
    expect(done.status).toBe('complete')
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${done.created_user_id}`))
    expect(user.public_metadata).toEqual({ plan: 'team', seats: 3 })
    expect(user.email_addresses[0]).toMatchObject({
      email_address: 'invitee@example.com',
      verification: { status: 'verified' },
    })
    const accepted = ok(await bapiJson(h, 'GET', '/v1/invitations?status=accepted'))
    expect(accepted.data.map((i: any) => i.id)).toEqual([inv.id])
    expect((await events(h, 'invitation.accepted'))[0].data).toMatchObject({ id: inv.id, user_id: user.id })

    // used up
    expectError(await create(browser(h), { ticket, password: PASSWORD }), 400, 'invitation_already_accepted')
    expectError(
      await browser(h)
        .call('GET', pathOf(link))
        .then(async (r) => ({ status: r.status, body: await r.json(), res: r })),
      400,
      'invitation_already_accepted',
    )
    expectError(await bapiJson(h, 'POST', `/v1/invitations/${inv.id}/revoke`), 400, 'invitation_not_pending')
  })

  it('a revoked invitation is refused; duplicates are refused; notify false sends nothing', async () => {
    const { h, delivery } = await fresh()
    const inv = ok(
      await bapiJson(h, 'POST', '/v1/invitations', { email_address: 'rev@example.com', notify: false }),
    )
    await h.settle()
    expect(delivery.sent).toEqual([])
    expectError(
      await bapiJson(h, 'POST', '/v1/invitations', { email_address: 'rev@example.com' }),
      422,
      'duplicate_record',
      'email_address',
    )
    const revoked = ok(await bapiJson(h, 'POST', `/v1/invitations/${inv.id}/revoke`))
    expect(revoked.status).toBe('revoked')
    const ticket = new URL(inv.url).searchParams.get('ticket')!
    const b = browser(h)
    expectError(await create(b, { ticket, password: PASSWORD }), 400, 'revoked_invitation')
    expect(count(h, 'sign_ups')).toBe(0)
    expectError(await bapiJson(h, 'POST', `/v1/invitations/${inv.id}/revoke`), 400, 'invitation_not_pending')
    expectError(await create(b, { ticket: 'inv_bogus', password: PASSWORD }), 400, 'ticket_invalid_code')
    // a sign-in token is not an invitation
    const user = await createUser(h)
    const sit = ok(await bapiJson(h, 'POST', '/v1/sign-in-tokens', { user_id: user.id }))
    expectError(
      await create(b, { ticket: sit.token, password: PASSWORD }),
      422,
      'ticket_invalid_code',
      'ticket',
    )
    // an invitation expires
    const short = ok(
      await bapiJson(h, 'POST', '/v1/invitations', {
        email_address: 'short@example.com',
        expires_in_days: 1,
        notify: false,
      }),
    )
    h.clock.advance(86400_000)
    expectError(
      await create(b, { ticket: new URL(short.url).searchParams.get('ticket'), password: PASSWORD }),
      400,
      'ticket_expired_code',
    )
  })

  it('inviting an address that already has an account is 422 form_identifier_exists (clerk-surface §7.4)', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    expectError(
      await bapiJson(h, 'POST', '/v1/invitations', { email_address: emailOf(user), notify: false }),
      422,
      'form_identifier_exists',
      'email_address',
    )
  })
})

describe('races', () => {
  it('two sign-ups for one address: the second to complete gets 422 form_identifier_exists, not a 500', async () => {
    const { h } = await fresh()
    const a = browser(h)
    const b = browser(h)
    const email = 'race+authn_test@example.com'
    const suA = ok(await create(a, { email_address: email, password: PASSWORD })).response
    const suB = ok(await create(b, { email_address: email, password: PASSWORD })).response
    const cA = ok(await issue(a, suA.id, { strategy: 'email_code' })).response
    const cB = ok(await issue(b, suB.id, { strategy: 'email_code' })).response
    expect(ok(await answer(a, suA.id, cA.id, { code: '424242' })).response.status).toBe('complete')
    expectError(
      await answer(b, suB.id, cB.id, { code: '424242' }),
      422,
      'form_identifier_exists',
      'email_address',
    )
    expect(count(h, 'users')).toBe(1)
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })
})
