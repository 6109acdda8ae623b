import { describe, expect, it } from 'bun:test'
import { browser } from '../../helpers/browser'
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
  signedIn,
  signIn,
  uniqueEmail,
} from '../support'

const fresh = freshHarnesses()

describe('signed out', () => {
  it('every /v1/me route is 401 authentication_invalid', async () => {
    const { h } = await fresh()
    const nobody = browser(h)
    const withClient = browser(h)
    ok(await withClient.json('POST', '/v1/client'))
    const id = 'idn_01HZZZZZZZZZZZZZZZZZZZZZZZ'
    for (const b of [nobody, withClient]) {
      for (const [method, path, payload] of [
        ['GET', '/v1/me', undefined],
        ['PATCH', '/v1/me', { first_name: 'X' }],
        ['DELETE', '/v1/me', undefined],
        ['POST', '/v1/me/change-password', { new_password: 'whatever whatever' }],
        ['GET', '/v1/me/sessions', undefined],
        ['GET', '/v1/me/email-addresses', undefined],
        ['POST', '/v1/me/email-addresses', { email_address: 'x@example.com' }],
        ['GET', `/v1/me/email-addresses/${id}`, undefined],
        ['POST', `/v1/me/email-addresses/${id}/challenges`, { strategy: 'email_code' }],
        ['GET', '/v1/me/phone-numbers', undefined],
        ['POST', '/v1/me/phone-numbers', { phone_number: '+14155550000' }],
      ] as const) {
        expectError(await b.json(method, path, payload), 401, 'authentication_invalid')
      }
    }
  })
})

describe('GET / PATCH / DELETE /v1/me', () => {
  it('reads and updates the profile; BAPI-only fields stay out', async () => {
    const { h } = await fresh()
    const { b, user } = await signedIn(h, undefined, {
      private_metadata: { secret: 1 },
      public_metadata: { plan: 'pro' },
    })
    const me = ok(await b.json('GET', '/v1/me'))
    expect(me.response).toMatchObject({ object: 'user', id: user.id, public_metadata: { plan: 'pro' } })
    expect(me.response.private_metadata).toBeUndefined()
    expect(me.client.sessions).toHaveLength(1)

    const patched = ok(
      await b.json('PATCH', '/v1/me', {
        first_name: 'Ada',
        last_name: 'Lovelace',
        unsafe_metadata: { theme: 'dark' },
      }),
    ).response
    expect(patched).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      unsafe_metadata: { theme: 'dark' },
    })
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).first_name).toBe('Ada')
    expect((await events(h, 'user.updated')).map((e) => e.data.id)).toContain(user.id)

    expectError(
      await b.json('PATCH', '/v1/me', { public_metadata: { plan: 'free' } }),
      422,
      'form_param_unknown',
      'public_metadata',
    )
    expectError(
      await b.json('PATCH', '/v1/me', { first_name: 7 }),
      422,
      'form_param_format_invalid',
      'first_name',
    )
    expectError(
      await b.json('PATCH', '/v1/me', { username: 'newname' }),
      422,
      'form_param_unknown',
      'username',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).public_metadata).toEqual({ plan: 'pro' })
  })

  it('DELETE removes the user and signs them out', async () => {
    const { h } = await fresh()
    const { b, user, sid } = await signedIn(h)
    const gone = ok(await b.json('DELETE', '/v1/me')).response
    expect(gone).toEqual({ object: 'user', id: user.id, deleted: true })
    expectError(await b.json('GET', '/v1/me'), 401, 'authentication_invalid')
    expectError(await b.json('POST', `/v1/client/sessions/${sid}/tokens`), 401, 'session_token_refused')
    expectError(await bapiJson(h, 'GET', `/v1/users/${user.id}`), 404, 'resource_not_found')
    expect((await events(h, 'user.deleted')).map((e) => e.data.id)).toContain(user.id)
  })
})

describe('change password', () => {
  it('needs the current password; follows the policy; can sign out other sessions', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sid = await signIn(b, emailOf(user))
    const other = browser(h)
    const otherSid = await signIn(other, emailOf(user))
    const change = (payload: Record<string, unknown>) => b.json('POST', '/v1/me/change-password', payload)

    expectError(
      await change({ new_password: 'a brand new one' }),
      422,
      'form_param_missing',
      'current_password',
    )
    expectError(
      await change({ current_password: 'not it at all', new_password: 'a brand new one' }),
      422,
      'form_password_incorrect',
      'current_password',
    )
    expectError(
      await change({ current_password: PASSWORD, new_password: 'short' }),
      422,
      'form_password_length_too_short',
      'new_password',
    )
    expectError(await change({ current_password: PASSWORD }), 422, 'form_param_missing', 'new_password')
    // nothing changed so far
    await signIn(browser(h), emailOf(user))

    ok(
      await change({
        current_password: PASSWORD,
        new_password: 'a brand new one',
        sign_out_of_other_sessions: true,
      }),
    )
    ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))
    expectError(
      await other.json('POST', `/v1/client/sessions/${otherSid}/tokens`),
      401,
      'session_token_refused',
    )
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), password: PASSWORD }),
      422,
      'form_password_incorrect',
    )
    await signIn(browser(h), emailOf(user), 'a brand new one')
  })
})

describe('/v1/me/email-addresses', () => {
  it('add (unverified), verify by email_code, set primary, delete; the primary one cannot be deleted', async () => {
    const { h, delivery } = await fresh()
    const { b, user } = await signedIn(h)
    const other = await createUser(h)
    const added = ok(
      await b.json('POST', '/v1/me/email-addresses', { email_address: 'Second@Example.com' }),
    ).response
    expect(added).toMatchObject({ object: 'email_address', email_address: 'second@example.com' })
    expect(added.id).toMatch(/^idn_/)
    expect(added.verification?.status ?? 'unverified').not.toBe('verified')
    expectError(
      await b.json('POST', '/v1/me/email-addresses', { email_address: emailOf(other) }),
      422,
      'form_identifier_exists',
      'email_address',
    )
    expectError(
      await b.json('POST', '/v1/me/email-addresses', { email_address: 'nope' }),
      422,
      'form_param_format_invalid',
      'email_address',
    )

    const list = ok(await b.json('GET', '/v1/me/email-addresses')).response
    expect(list.map((e: any) => e.email_address)).toEqual([emailOf(user), 'second@example.com'])
    expect(ok(await b.json('GET', `/v1/me/email-addresses/${added.id}`)).response.id).toBe(added.id)
    // another user's address is not found
    expectError(
      await b.json('GET', `/v1/me/email-addresses/${other.email_addresses[0].id}`),
      404,
      'resource_not_found',
    )
    expectError(
      await b.json('DELETE', `/v1/me/email-addresses/${other.email_addresses[0].id}`),
      404,
      'resource_not_found',
    )

    // an unverified address neither signs in nor becomes primary
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: 'second@example.com' }),
      422,
      'form_identifier_not_found',
    )
    expectError(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/set-primary`),
      422,
      'form_param_value_invalid',
      'primary_email_address_id',
    )

    expectError(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges`, { strategy: 'sms' }),
      422,
      'verification_strategy_invalid',
      'strategy',
    )
    const c = ok(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges`, { strategy: 'email_code' }),
    ).response
    expect(c).toMatchObject({
      parent_type: 'email_address',
      parent_id: added.id,
      strategy: 'email_code',
      status: 'unverified',
    })
    await h.settle()
    const code = delivery.lastCode('second@example.com')
    const ans = (payload: Record<string, unknown>) =>
      b.json('POST', `/v1/me/email-addresses/${added.id}/challenges/${c.id}/answer`, payload)
    expectError(
      await ans({ code: code === '000000' ? '111111' : '000000' }),
      422,
      'form_code_incorrect',
      'code',
    )
    const verified = ok(await ans({ code })).response
    expect(verified.verification.status).toBe('verified')
    expectError(await ans({ code }), 400, 'verification_already_verified')
    expect(
      ok(await b.json('GET', `/v1/me/email-addresses/${added.id}/challenges/${c.id}`)).response.status,
    ).toBe('verified')
    expectError(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges`, { strategy: 'email_code' }),
      400,
      'verification_already_verified',
    )

    const primaryId = user.primary_email_address_id
    expectError(
      await b.json('DELETE', `/v1/me/email-addresses/${primaryId}`),
      400,
      'identification_deletion_failed',
    )
    const switched = ok(await b.json('POST', `/v1/me/email-addresses/${added.id}/set-primary`)).response
    expect(switched.primary_email_address_id).toBe(added.id)
    const deleted = ok(await b.json('DELETE', `/v1/me/email-addresses/${primaryId}`)).response
    expect(deleted).toEqual({ object: 'email_address', id: primaryId, deleted: true })
    expect(
      ok(await b.json('GET', '/v1/me')).response.email_addresses.map((e: any) => e.email_address),
    ).toEqual(['second@example.com'])
    await signIn(browser(h), 'second@example.com')
  })

  it('verifies by email_link; the answer with an empty body reports it', async () => {
    const { h, delivery } = await fresh()
    const { b } = await signedIn(h)
    const address = uniqueEmail('linked')
    const added = ok(await b.json('POST', '/v1/me/email-addresses', { email_address: address })).response
    expectError(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges`, { strategy: 'email_link' }),
      422,
      'form_param_missing',
      'redirect_url',
    )
    const c = ok(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges`, {
        strategy: 'email_link',
        redirect_url: 'http://localhost:5173/profile',
      }),
    ).response
    expectError(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges/${c.id}/answer`, {}),
      400,
      'verification_not_complete',
    )
    await h.settle()
    const res = await browser(h).call('GET', pathOf(delivery.lastLink(address)))
    expect(res.status).toBe(303)
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
    const done = ok(
      await b.json('POST', `/v1/me/email-addresses/${added.id}/challenges/${c.id}/answer`, {}),
    ).response
    expect(done.verification.status).toBe('verified')
  })
})

describe('/v1/me/phone-numbers', () => {
  async function phoneEnv() {
    const f = await fresh()
    await patchInstance(f.h, {
      identifiers: { phone_number: { enabled: true } },
      sms: { from_number: '+15005550006' },
    })
    return f
  }

  it('added unverified; toggles need a verified number; deletion refused while reserved', async () => {
    const { h } = await phoneEnv()
    const { b, user } = await signedIn(h)
    const added = ok(
      await b.json('POST', '/v1/me/phone-numbers', { phone_number: '+1 555 555 0199' }),
    ).response
    expect(added).toMatchObject({
      object: 'phone_number',
      phone_number: '+15555550199',
      reserved_for_second_factor: false,
      default_second_factor: false,
    })
    expect(added.verification?.status ?? 'unverified').not.toBe('verified')
    expectError(
      await b.json('POST', '/v1/me/phone-numbers', { phone_number: '+15555550198', verified: true }),
      422,
      'form_param_unknown',
      'verified',
    )
    expectError(
      await b.json('POST', '/v1/me/phone-numbers', { phone_number: '+15555550199' }),
      422,
      'form_identifier_exists',
      'phone_number',
    )
    expectError(
      await b.json('POST', '/v1/me/phone-numbers', { phone_number: 'call me' }),
      422,
      'form_param_format_invalid',
      'phone_number',
    )

    const patch = (payload: Record<string, unknown>) =>
      b.json('PATCH', `/v1/me/phone-numbers/${added.id}`, payload)
    for (const p of [
      { is_primary: true },
      { reserved_for_second_factor: true },
      { default_second_factor: true },
    ]) {
      expectError(await patch(p), 400, 'phone_number_not_verified')
    }
    expectError(await patch({ is_primary: 'yes' }), 422, 'form_param_format_invalid', 'is_primary')
    expect(ok(await b.json('GET', `/v1/me/phone-numbers/${added.id}`)).response).toMatchObject({
      reserved_for_second_factor: false,
      default_second_factor: false,
    })
    expect(ok(await b.json('GET', '/v1/me')).response.primary_phone_number_id).toBeNull()

    const c = ok(await b.json('POST', `/v1/me/phone-numbers/${added.id}/challenges`, {})).response
    expect(c).toMatchObject({ strategy: 'phone_code', parent_type: 'phone_number', status: 'unverified' })
    expectError(
      await b.json('POST', `/v1/me/phone-numbers/${added.id}/challenges/${c.id}/answer`, { code: '000000' }),
      422,
      'form_code_incorrect',
      'code',
    )
    const verified = ok(
      await b.json('POST', `/v1/me/phone-numbers/${added.id}/challenges/${c.id}/answer`, { code: '424242' }),
    ).response
    expect(verified.verification.status).toBe('verified')
    expect(
      ok(await b.json('GET', `/v1/me/phone-numbers/${added.id}/challenges/${c.id}`)).response.status,
    ).toBe('verified')
    expect(ok(await b.json('GET', '/v1/me')).response.primary_phone_number_id).toBe(added.id)

    expectError(
      await patch({ default_second_factor: true }),
      422,
      'form_param_value_invalid',
      'default_second_factor',
    )
    expect(ok(await patch({ reserved_for_second_factor: true })).response.reserved_for_second_factor).toBe(
      true,
    )
    expect(ok(await patch({ default_second_factor: true })).response.default_second_factor).toBe(true)
    expectError(
      await b.json('DELETE', `/v1/me/phone-numbers/${added.id}`),
      400,
      'phone_number_reserved_for_second_factor',
    )
    expect(ok(await b.json('GET', '/v1/me/phone-numbers')).response.map((p: any) => p.id)).toEqual([added.id])

    const released = ok(await patch({ reserved_for_second_factor: false })).response
    expect(released).toMatchObject({ reserved_for_second_factor: false, default_second_factor: false })
    expect(ok(await b.json('DELETE', `/v1/me/phone-numbers/${added.id}`)).response).toEqual({
      object: 'phone_number',
      id: added.id,
      deleted: true,
    })
    const after = ok(await b.json('GET', '/v1/me')).response
    expect(after.phone_numbers).toEqual([])
    expect(after.primary_phone_number_id).toBeNull()
    expect(user.id).toBe(after.id)
  })

  it("another user's number is 404; phone numbers off is 422", async () => {
    const { h } = await phoneEnv()
    const owner = await signedIn(h)
    const number = ok(
      await owner.b.json('POST', '/v1/me/phone-numbers', { phone_number: '+15555550111' }),
    ).response
    const intruder = await signedIn(h)
    for (const [method, path, payload] of [
      ['GET', `/v1/me/phone-numbers/${number.id}`, undefined],
      ['PATCH', `/v1/me/phone-numbers/${number.id}`, { reserved_for_second_factor: false }],
      ['DELETE', `/v1/me/phone-numbers/${number.id}`, undefined],
      ['POST', `/v1/me/phone-numbers/${number.id}/challenges`, {}],
    ] as const) {
      expectError(await intruder.b.json(method, path, payload), 404, 'resource_not_found')
    }
    expect(ok(await owner.b.json('GET', '/v1/me/phone-numbers')).response.map((p: any) => p.id)).toEqual([
      number.id,
    ])

    await patchInstance(h, { identifiers: { phone_number: { enabled: false } } })
    expectError(
      await owner.b.json('POST', '/v1/me/phone-numbers', { phone_number: '+15555550112' }),
      422,
      'form_param_unknown',
      'phone_number',
    )
  })
})

describe('_authn_session_id', () => {
  it("names one of the client's own sessions; another client's session is 401", async () => {
    const { h } = await fresh()
    await patchInstance(h, { session: { multi_session: true } })
    const a = await createUser(h)
    const c = await createUser(h)
    const b = browser(h)
    const sidA = await signIn(b, emailOf(a))
    const sidC = await signIn(b, emailOf(c))
    expect(ok(await b.json('GET', '/v1/me')).response.id).toBe(c.id)
    expect(ok(await b.json('GET', `/v1/me?_authn_session_id=${sidA}`)).response.id).toBe(a.id)
    const stranger = await signedIn(h)
    expectError(
      await b.json('GET', `/v1/me?_authn_session_id=${stranger.sid}`),
      401,
      'authentication_invalid',
    )
    expectError(
      await b.json('PATCH', `/v1/me?_authn_session_id=${stranger.sid}`, { first_name: 'Mallory' }),
      401,
      'authentication_invalid',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${stranger.user.id}`)).first_name).toBeNull()
    expect(sidC).toMatch(/^sess_/)
  })
})

describe('what clerk-js adds to every call', () => {
  it('its version and session parameters pass strict list queries; _clerk_session_id picks the session', async () => {
    const { h } = await fresh()
    await patchInstance(h, { session: { multi_session: true }, organizations: { enabled: true } })
    const a = await createUser(h)
    const c = await createUser(h)
    const b = browser(h)
    const sidA = await signIn(b, emailOf(a))
    await signIn(b, emailOf(c))
    const meta = `_clerk_js_version=5.114.0&__clerk_api_version=2026-05-12&_clerk_session_id=${sidA}`
    expect(ok(await b.json('GET', `/v1/me?${meta}`)).response.id).toBe(a.id)
    const list = ok(await b.json('GET', `/v1/me/organization-memberships?limit=5&${meta}`))
    expect(list.response.data).toEqual([])
    // A parameter nobody sends about itself is still refused by the strict schema.
    expectError(await b.json('GET', '/v1/me/organization-memberships?bogus=1'), 422, 'form_param_unknown')
  })
})
