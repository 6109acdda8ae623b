import { afterAll, describe, expect, it } from 'bun:test'
import type { Delivery } from '../../src/lib/delivery'
import { bapiJson, createUser, emailOf, messages, ok, patchInstance, row, signedIn } from '../flows/support'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh(opts: Parameters<typeof createHarness>[0] = {}) {
  const h = await createHarness(opts)
  open.push(h)
  return h
}
const statusOf = (h: Harness, table: string, id: string) =>
  row<{ status: string } | null>(h, `SELECT status FROM ${table} WHERE id = ?`, id)?.status

describe('the scheduler persists deadlines', () => {
  it('sessions: expired after the max lifetime, abandoned after the inactivity timeout', async () => {
    const h = await fresh()
    await patchInstance(h, { session: { max_lifetime_seconds: 3600, inactivity_timeout_seconds: 1800 } })
    const idle = await signedIn(h)
    const busy = await signedIn(h)

    h.clock.advance(1500_000)
    ok(await busy.b.json('POST', `/v1/client/sessions/${busy.sid}/tokens`))
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sessions', idle.sid)).toBe('active')

    h.clock.advance(300_000) // idle: 1800 s without a refresh
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sessions', idle.sid)).toBe('abandoned')
    expect(statusOf(h, 'sessions', busy.sid)).toBe('active')

    // busy keeps refreshing (at 2500 s and 3200 s) until the absolute lifetime (3600 s) ends it
    for (let i = 0; i < 2; i++) {
      h.clock.advance(700_000)
      ok(await busy.b.json('POST', `/v1/client/sessions/${busy.sid}/tokens`))
    }
    h.clock.advance(1000)
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sessions', busy.sid)).toBe('active')
    h.clock.advance(399_000) // 3600 s after sign-in
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sessions', busy.sid)).toBe('expired')
    const s = ok(await bapiJson(h, 'GET', `/v1/sessions/${busy.sid}`))
    expect(s.status).toBe('expired')
    expect(
      row<{ ended_at: number }>(h, 'SELECT ended_at FROM sessions WHERE id = ?', busy.sid).ended_at,
    ).toBe(h.clock.now())
    // a tick more changes nothing
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sessions', idle.sid)).toBe('abandoned')
  })

  it('challenges expire after 10 minutes and sign-ins are abandoned after 30', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = ok(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), strategy: 'email_code' }),
    ).response
    const cid = sia.first_factor_verification.id

    h.clock.advance(10 * 60_000 - 1)
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'challenges', cid)).toBe('unverified')
    h.clock.advance(1)
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'challenges', cid)).toBe('expired')
    expect(statusOf(h, 'sign_ins', sia.id)).toBe('needs_first_factor')

    h.clock.advance(20 * 60_000)
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sign_ins', sia.id)).toBe('abandoned')
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe('abandoned')
    const r = await b.json('POST', `/v1/client/sign-ins/${sia.id}/challenges/password/answer`, {
      password: 'x',
    })
    expect(r.status).toBe(400)
    expect(r.body.errors[0].code).toBe('client_state_invalid')
  })

  it('a sign-in past its deadline reads as abandoned before the job runs', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const sia = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) })).response
    h.clock.advance(30 * 60_000)
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${sia.id}`)).response.status).toBe('abandoned')
    expect(ok(await b.json('GET', '/v1/client')).response.sign_in.status).toBe('abandoned')
  })

  it('sign-ups are abandoned after 24 h; completed ones are left alone', async () => {
    const h = await fresh()
    const b1 = browser(h)
    const open1 = ok(
      await b1.json('POST', '/v1/client/sign-ups', { email_address: 'slow+authn_test@example.com' }),
    ).response
    const b2 = browser(h)
    const su2 = ok(
      await b2.json('POST', '/v1/client/sign-ups', {
        email_address: 'fast+authn_test@example.com',
        password: 'correct horse battery',
      }),
    ).response
    const c = ok(
      await b2.json('POST', `/v1/client/sign-ups/${su2.id}/challenges`, { strategy: 'email_code' }),
    ).response
    ok(await b2.json('POST', `/v1/client/sign-ups/${su2.id}/challenges/${c.id}/answer`, { code: '424242' }))

    h.clock.advance(24 * 3600_000)
    await h.rt.scheduler.tick()
    expect(statusOf(h, 'sign_ups', open1.id)).toBe('abandoned')
    expect(statusOf(h, 'sign_ups', su2.id)).toBe('complete')
  })

  it('failed deliveries are retried by the job', async () => {
    let failures = 1
    const sent: string[] = []
    const flaky: Delivery = {
      email: async (m) => {
        if (failures-- > 0) throw new Error('relay down')
        sent.push(m.to)
      },
      sms: null,
    }
    const h = await fresh({ delivery: flaky })
    const user = await createUser(h)
    ok(
      await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        strategy: 'email_code',
      }),
    )
    await h.settle()
    let [m] = await messages(h)
    expect(m).toMatchObject({ status: 'queued', attempts: 1, error: 'relay down' })
    expect(sent).toEqual([])
    await h.rt.scheduler.tick()
    expect((await messages(h))[0].attempts).toBe(1)
    h.clock.advance(30_000)
    await h.rt.scheduler.tick()
    ;[m] = await messages(h)
    expect(m).toMatchObject({ status: 'sent', attempts: 2, error: null })
    expect(sent).toEqual([emailOf(user)])
  })
})
