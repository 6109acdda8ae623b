import { afterAll, describe, expect, it } from 'bun:test'
import {
  bapiJson,
  createUser,
  emailOf,
  events,
  expectError,
  messages,
  ok,
  patchInstance,
  signedIn,
  uniqueEmail,
} from '../flows/support'
import { browser, recordingDelivery } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh(opts: Parameters<typeof createHarness>[0] = {}) {
  const delivery = recordingDelivery()
  const h = await createHarness({ ...opts, delivery })
  open.push(h)
  return { h, delivery }
}

async function emailCodeSignIn(h: Harness, email: string) {
  const b = browser(h)
  const sia = ok(
    await b.json('POST', '/v1/client/sign-ins', { identifier: email, strategy: 'email_code' }),
  ).response
  return { b, sia, challenge: sia.first_factor_verification }
}

describe('the messages log (BAPI GET /v1/messages)', () => {
  it('records each email with template, status and attempts, newest first, filterable by recipient', async () => {
    const { h, delivery } = await fresh()
    const a = await createUser(h)
    const b = await createUser(h)
    await emailCodeSignIn(h, emailOf(a))
    h.clock.advance(1000)
    await emailCodeSignIn(h, emailOf(b))
    await h.settle()
    expect(delivery.sent.map((m) => m.to)).toEqual([emailOf(a), emailOf(b)])
    const list = await messages(h)
    expect(list.map((m) => m.to)).toEqual([emailOf(b), emailOf(a)])
    expect(list[0]).toMatchObject({
      object: 'message',
      channel: 'email',
      template: 'verification_code',
      status: 'sent',
      delivered_by_us: true,
      attempts: 1,
      error: null,
      sent_at: h.clock.now(),
    })
    expect(list[0].id).toMatch(/^msg_/)
    expect(list[0].subject).toContain(delivery.lastCode(emailOf(b)))
    const only = ok(await bapiJson(h, 'GET', `/v1/messages?to=${encodeURIComponent(emailOf(a))}`))
    expect(only.data.map((m: any) => m.to)).toEqual([emailOf(a)])
    const page = ok(await bapiJson(h, 'GET', '/v1/messages?limit=1'))
    expect(page.data).toHaveLength(1)
    expect(page.meta.next_cursor).toBeString()
    expectError(await bapiJson(h, 'GET', '/v1/messages?cursor=garbage'), 400, 'pagination_cursor_invalid')
  })

  it('test identifiers send nothing and take 424242', async () => {
    const { h, delivery } = await fresh()
    const b = browser(h)
    const email = 'tester+authn_test@example.com'
    const su = ok(
      await b.json('POST', '/v1/client/sign-ups', {
        email_address: email,
        password: 'correct horse battery',
      }),
    ).response
    const c = ok(
      await b.json('POST', `/v1/client/sign-ups/${su.id}/challenges`, { strategy: 'email_code' }),
    ).response
    await h.settle()
    expect(delivery.sent).toEqual([])
    const [m] = await messages(h)
    expect(m).toMatchObject({ to: email, status: 'test_mode', body: null, attempts: 0 })
    expectError(
      await b.json('POST', `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`, { code: '123456' }),
      422,
      'form_code_incorrect',
    )
    const done = ok(
      await b.json('POST', `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`, { code: '424242' }),
    )
    expect(done.response.status).toBe('complete')
  })

  it('a real address never takes 424242', async () => {
    const { h } = await fresh()
    const user = await createUser(h)
    const { b, sia, challenge } = await emailCodeSignIn(h, emailOf(user))
    const r = await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/${challenge.id}/answer`, {
      code: '424242',
    })
    // (a 1-in-a-million real code aside)
    expect(r.status).toBe(422)
  })
})

describe('email.delivered_by_us: false', () => {
  it('sends nothing; an email.created event carries the message instead', async () => {
    const { h, delivery } = await fresh()
    await patchInstance(h, { email: { delivered_by_us: false } })
    const user = await createUser(h)
    const { b, sia, challenge } = await emailCodeSignIn(h, emailOf(user))
    await h.settle()
    expect(delivery.sent).toEqual([])
    const [m] = await messages(h)
    expect(m).toMatchObject({
      to: emailOf(user),
      status: 'not_delivered',
      delivered_by_us: false,
      attempts: 0,
    })
    const [evt] = await events(h, 'email.created')
    expect(evt.data).toMatchObject({
      object: 'email',
      id: m.id,
      slug: 'verification_code',
      to_email_address: emailOf(user),
      delivered_by_us: false,
    })
    const code = String(evt.data.body).match(/\b(\d{6})\b/)![1]!
    expect(evt.data.data.code).toBe(code)
    await h.rt.scheduler.tick()
    await h.settle()
    expect(delivery.sent).toEqual([])
    const done = ok(
      await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/${challenge.id}/answer`, { code }),
    )
    expect(done.response.status).toBe('complete')
  })
})

describe('SMS templates (BAPI)', () => {
  async function smsEnv() {
    const f = await fresh()
    await patchInstance(f.h, {
      identifiers: { phone_number: { enabled: true } },
      sms: { from_number: '+15005550006' },
    })
    const { b } = await signedIn(f.h)
    let n = 2000
    const sendCode = async () => {
      const number = `+1415555${++n}`
      const p = ok(await b.json('POST', '/v1/me/phone-numbers', { phone_number: number })).response
      ok(await b.json('POST', `/v1/me/phone-numbers/${p.id}/challenges`, {}))
      await f.h.settle()
      return number
    }
    return { ...f, sendCode }
  }

  it('lists the three in slug order; unknown slugs are 404', async () => {
    const { h } = await fresh()
    const list = ok(await bapiJson(h, 'GET', '/v1/sms-templates'))
    expect(list.data.map((t: any) => t.slug)).toEqual([
      'invitation',
      'reset_password_code',
      'verification_code',
    ])
    const vc = ok(await bapiJson(h, 'GET', '/v1/sms-templates/verification_code'))
    expect(vc).toMatchObject({
      object: 'sms_template',
      slug: 'verification_code',
      delivered_by_us: true,
      from_number_override: null,
      required_variables: ['code'],
      can_revert: false,
    })
    expect(vc.body).toContain('{{code}}')
    expectError(await bapiJson(h, 'GET', '/v1/sms-templates/nope'), 404, 'resource_not_found')
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/nope', { body: '{{code}}' }),
      404,
      'resource_not_found',
    )
    expectError(await bapiJson(h, 'POST', '/v1/sms-templates/nope/revert'), 404, 'resource_not_found')
  })

  it('a patched body must keep {{code}}, is used for the next SMS, and reverts', async () => {
    const { h, delivery, sendCode } = await smsEnv()
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', { body: 'Your code is coming' }),
      422,
      'form_param_value_invalid',
      'body',
    )
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', {
        body: '{{code}} for {{user_name}}',
      }),
      422,
      'form_param_value_invalid',
      'body',
    )
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', { body: '' }),
      422,
      'form_param_format_invalid',
      'body',
    )
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', { colour: 'red' }),
      422,
      'form_param_unknown',
      'colour',
    )
    expectError(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', {
        from_number_override: '555-CALL-ME',
      }),
      422,
      'form_param_format_invalid',
      'from_number_override',
    )
    expect(ok(await bapiJson(h, 'GET', '/v1/sms-templates/verification_code')).can_revert).toBe(false)

    const patched = ok(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', {
        body: 'ACME: {{code}} is your code',
        from_number_override: '+15005550009',
      }),
    )
    expect(patched).toMatchObject({
      body: 'ACME: {{code}} is your code',
      can_revert: true,
      from_number_override: '+15005550009',
    })
    const to = await sendCode()
    const sms = delivery.sent.at(-1)!
    expect(sms).toMatchObject({ channel: 'sms', to, from: '+15005550009' })
    expect(sms.text).toMatch(/^ACME: \d{6} is your code$/)

    const reverted = ok(await bapiJson(h, 'POST', '/v1/sms-templates/verification_code/revert'))
    expect(reverted).toMatchObject({ can_revert: false, from_number_override: null, delivered_by_us: true })
    expect(reverted.body).not.toContain('ACME')
    await sendCode()
    expect(delivery.sent.at(-1)!.text).not.toContain('ACME')
    expect(delivery.sent.at(-1)!.from).toBe('+15005550006')
  })

  it('delivered_by_us false: nothing sent; an sms.created event carries the message', async () => {
    const { h, delivery, sendCode } = await smsEnv()
    const off = ok(
      await bapiJson(h, 'PATCH', '/v1/sms-templates/verification_code', { delivered_by_us: false }),
    )
    expect(off.delivered_by_us).toBe(false)
    const sent = delivery.sent.length
    const to = await sendCode()
    expect(delivery.sent.length).toBe(sent)
    const evt = (await events(h, 'sms.created')).find((e) => e.data.to_phone_number === to)
    expect(evt.data).toMatchObject({
      object: 'sms_message',
      slug: 'verification_code',
      delivered_by_us: false,
    })
    expect(evt.data.message).toMatch(/\d{6}/)
    const m = (await messages(h)).find((x) => x.to === to)
    expect(m).toMatchObject({ channel: 'sms', status: 'not_delivered', delivered_by_us: false })
  })
})

describe('production envs', () => {
  it('drop message bodies after delivery; test identifiers are ordinary there', async () => {
    const { h, delivery } = await fresh({
      envs: [{ type: 'production', host: `clerk.prod${process.pid}.test` }],
    })
    const user = await createUser(h)
    const tester = await createUser(h, { email_address: [`qa+authn_test-${Date.now()}@example.com`] })
    await emailCodeSignIn(h, emailOf(user))
    await emailCodeSignIn(h, emailOf(tester))
    await h.settle()
    expect(delivery.sent.map((m) => m.to).sort()).toEqual([emailOf(user), emailOf(tester)].sort())
    const list = await messages(h)
    expect(list).toHaveLength(2)
    for (const m of list) {
      expect(m.status).toBe('sent')
      expect(m.body).toBeNull()
    }
    expect(uniqueEmail()).toContain('@')
  })
})
