import { afterAll, describe, expect, it } from 'bun:test'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import {
  bapiJson,
  createUser,
  emailOf,
  events,
  expectError,
  ok,
  PASSWORD,
  patchInstance,
  row,
  signedIn,
  signIn,
} from './support'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh(opts: Parameters<typeof createHarness>[0] = {}) {
  const h = await createHarness(opts)
  open.push(h)
  return h
}
const count = (h: Harness, table: string) => row<{ n: number }>(h, `SELECT count(*) AS n FROM ${table}`).n

describe('GET/POST/DELETE /v1/client', () => {
  it('has no client until one is made, then keeps it in an HttpOnly cookie', async () => {
    const h = await fresh()
    const b = browser(h)
    const none = await b.json('GET', '/v1/client')
    expect(ok(none)).toEqual({ response: null, client: null })
    expect(none.res.headers.get('set-cookie')).toBeNull()

    const made = await b.json('POST', '/v1/client')
    const client = ok(made).response
    expect(client).toMatchObject({ object: 'client', sessions: [], sign_in: null, sign_up: null })
    expect(client.id).toMatch(/^client_/)
    expect(made.body.client.id).toBe(client.id)
    const cookie = made.res.headers.get('set-cookie')!
    expect(cookie).toContain('__authn_client=')
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Lax')
    expect(cookie).toContain('Secure')
    expect(cookie).toContain('Path=/')

    const again = ok(await b.json('GET', '/v1/client'))
    expect(again.response.id).toBe(client.id)

    // POST again: a fresh client; the old one is left behind
    const second = ok(await b.json('POST', '/v1/client')).response
    expect(second.id).not.toBe(client.id)
    expect(ok(await b.json('GET', '/v1/client')).response.id).toBe(second.id)
  })

  it('does not mark the cookie Secure on a localhost frontend host', async () => {
    const h = await fresh()
    const env = await h.addEnv({ host: `app${process.pid}.localhost` })
    const b = browser(h, env)
    const made = await b.json('POST', '/v1/client')
    ok(made)
    const cookie = made.res.headers.get('set-cookie')!
    expect(cookie).toContain('HttpOnly')
    expect(cookie).not.toContain('Secure')
  })

  it('DELETE ends every session of the device; without a client it answers null', async () => {
    const h = await fresh()
    const nobody = browser(h)
    expect(ok(await nobody.json('DELETE', '/v1/client'))).toEqual({ response: null, client: null })

    const { b, sid } = await signedIn(h)
    const out = ok(await b.json('DELETE', '/v1/client'))
    expect(out.response.last_active_session_id).toBeNull()
    expect(out.response.sessions.map((s: any) => [s.id, s.status])).toEqual([[sid, 'ended']])
    expectError(await b.json('POST', `/v1/client/sessions/${sid}/tokens`), 401, 'session_token_refused')
    expect((await events(h, 'session.ended')).map((e) => e.data.id)).toContain(sid)
  })

  it('GET /v1/client/sessions/{sid} answers own sessions with the user', async () => {
    const h = await fresh()
    const { b, sid, user } = await signedIn(h)
    const s = ok(await b.json('GET', `/v1/client/sessions/${sid}`)).response
    expect(s).toMatchObject({ object: 'session', id: sid, status: 'active' })
    expect(s.user.id).toBe(user.id)
    expect(s.user.private_metadata).toBeUndefined()
    expect(s.public_user_data.identifier).toBe(emailOf(user))
  })
})

describe('GET /v1/environment', () => {
  it('answers the public configuration without a client', async () => {
    const h = await fresh()
    const res = await browser(h).json('GET', '/v1/environment')
    const env = ok(res)
    expect(env).toMatchObject({ object: 'environment', environment_type: 'development' })
    expect(env.auth_config).toBeObject()
    expect(JSON.stringify(env)).not.toContain(h.env.secretKey)
    expect(res.res.headers.get('set-cookie')).toBeNull()
  })
})

describe('single-session mode (default)', () => {
  it('refuses a second sign-in while signed in with 400 session_exists and changes nothing', async () => {
    const h = await fresh()
    const { b, sid, user } = await signedIn(h)
    const other = await createUser(h)
    const before = ok(await b.json('GET', '/v1/client')).response
    const signInsBefore = count(h, 'sign_ins')
    const sessionsBefore = count(h, 'sessions')

    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(other),
        password: PASSWORD,
        strategy: 'password',
      }),
      400,
      'session_exists',
    )
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(other) }),
      400,
      'session_exists',
    )
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) }),
      400,
      'session_exists',
    )

    const after = ok(await b.json('GET', '/v1/client')).response
    expect(after.sign_in?.id ?? null).toBe(before.sign_in?.id ?? null)
    expect(after.last_active_session_id).toBe(sid)
    expect(after.sessions.map((s: any) => s.status)).toEqual(['active'])
    expect(count(h, 'sign_ins')).toBe(signInsBefore)
    expect(count(h, 'sessions')).toBe(sessionsBefore)
  })

  it('after signing out, the same device signs in again', async () => {
    const h = await fresh()
    const { b, sid, user } = await signedIn(h)
    ok(await b.json('POST', `/v1/client/sessions/${sid}/end`))
    const sid2 = await signIn(b, emailOf(user))
    expect(sid2).not.toBe(sid)
  })
})

describe('multi-session mode', () => {
  it('holds several users; the same user again is identifier_already_signed_in; end and remove', async () => {
    const h = await fresh()
    await patchInstance(h, { session: { multi_session: true } })
    const a = await createUser(h)
    const bUser = await createUser(h)
    const b = browser(h)
    const sidA = await signIn(b, emailOf(a))
    const sidB = await signIn(b, emailOf(bUser))
    let client = ok(await b.json('GET', '/v1/client')).response
    expect(client.last_active_session_id).toBe(sidB)
    expect(client.sessions.map((s: any) => [s.id, s.status])).toEqual([
      [sidA, 'active'],
      [sidB, 'active'],
    ])

    const before = count(h, 'sessions')
    expectError(
      await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(a), password: PASSWORD }),
      400,
      'identifier_already_signed_in',
    )
    expect(count(h, 'sessions')).toBe(before)

    // both sessions mint tokens
    ok(await b.json('POST', `/v1/client/sessions/${sidA}/tokens`))
    ok(await b.json('POST', `/v1/client/sessions/${sidB}/tokens`))

    // end B: A becomes the active one
    const ended = ok(await b.json('POST', `/v1/client/sessions/${sidB}/end`))
    expect(ended.response).toMatchObject({ id: sidB, status: 'ended' })
    expect(ended.client.last_active_session_id).toBe(sidA)
    expectError(await b.json('POST', `/v1/client/sessions/${sidB}/tokens`), 401, 'session_token_refused')
    ok(await b.json('POST', `/v1/client/sessions/${sidA}/tokens`))

    // remove A: gone from the device
    const removed = ok(await b.json('POST', `/v1/client/sessions/${sidA}/remove`))
    expect(removed.response).toMatchObject({ id: sidA, status: 'removed' })
    expect(removed.client.last_active_session_id).toBeNull()
    expectError(await b.json('POST', `/v1/client/sessions/${sidA}/tokens`), 401, 'session_token_refused')

    expect((await events(h, 'session.ended')).map((e) => e.data.id)).toContain(sidB)
    expect((await events(h, 'session.removed')).map((e) => e.data.id)).toContain(sidA)
    client = ok(await b.json('GET', '/v1/client')).response
    expect(client.sessions.find((s: any) => s.id === sidB)?.status).toBe('ended')
  })

  it('a removed session no longer appears in client.sessions (clerk-surface §2.2)', async () => {
    const h = await fresh()
    const { b, sid } = await signedIn(h)
    ok(await b.json('POST', `/v1/client/sessions/${sid}/remove`))
    const client = ok(await b.json('GET', '/v1/client')).response
    expect(client.sessions.map((s: any) => s.id)).not.toContain(sid)
  })
})

describe('session tokens and lifetimes', () => {
  it('refuses tokens for ended, revoked and expired sessions', async () => {
    const h = await fresh()
    const one = await signedIn(h)
    ok(await one.b.json('POST', `/v1/client/sessions/${one.sid}/end`))
    expectError(
      await one.b.json('POST', `/v1/client/sessions/${one.sid}/tokens`),
      401,
      'session_token_refused',
    )

    const two = await signedIn(h)
    ok(await bapiJson(h, 'POST', `/v1/sessions/${two.sid}/revoke`))
    expectError(
      await two.b.json('POST', `/v1/client/sessions/${two.sid}/tokens`),
      401,
      'session_token_refused',
    )

    const three = await signedIn(h)
    h.clock.advance(7 * 86400_000)
    expectError(
      await three.b.json('POST', `/v1/client/sessions/${three.sid}/tokens`),
      401,
      'session_token_refused',
    )
  })

  it('max lifetime: expire_at from the settings, token refused and status expired after it', async () => {
    const h = await fresh()
    await patchInstance(h, { session: { max_lifetime_seconds: 3600 } })
    const start = h.clock.now()
    const { b, sid } = await signedIn(h)
    const s = ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`))
    expect(s.expire_at).toBe(start + 3600_000)
    expect(s.abandon_at).toBeNull()

    h.clock.advance(3600_000 - 1000)
    ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))
    h.clock.advance(1000)
    expectError(await b.json('POST', `/v1/client/sessions/${sid}/tokens`), 401, 'session_token_refused')
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`)).status).toBe('expired')
    const client = ok(await b.json('GET', '/v1/client')).response
    expect(client.sessions[0]).toMatchObject({ id: sid, status: 'expired', user: null })
    // the signed-in user is gone for /v1/me too
    expectError(await b.json('GET', '/v1/me'), 401, 'authentication_invalid')
  })

  it('inactivity timeout: each refresh pushes abandon_at; idle past it the session is abandoned', async () => {
    const h = await fresh()
    await patchInstance(h, { session: { inactivity_timeout_seconds: 600 } })
    const { b, sid } = await signedIn(h)
    const t0 = h.clock.now()
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`)).abandon_at).toBe(t0 + 600_000)

    h.clock.advance(500_000)
    ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))
    const touched = ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`))
    expect(touched.abandon_at).toBe(h.clock.now() + 600_000)
    expect(touched.last_active_at).toBe(h.clock.now())

    h.clock.advance(500_000) // 1000 s after sign-in, 500 s after the refresh
    ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))

    h.clock.advance(600_000)
    expectError(await b.json('POST', `/v1/client/sessions/${sid}/tokens`), 401, 'session_token_refused')
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`)).status).toBe('abandoned')
  })
})

describe('/v1/me/sessions', () => {
  it("lists the user's live sessions on every device and revokes one of them", async () => {
    const h = await fresh()
    const user = await createUser(h)
    const phone = browser(h)
    const laptop = browser(h)
    const sidPhone = await signIn(phone, emailOf(user))
    const sidLaptop = await signIn(laptop, emailOf(user))
    const stranger = await signedIn(h)

    const list = ok(await laptop.json('GET', '/v1/me/sessions')).response
    expect(list.data.map((s: any) => s.id).sort()).toEqual([sidPhone, sidLaptop].sort())

    // someone else's session is not found, and stays active
    expectError(
      await laptop.json('POST', `/v1/me/sessions/${stranger.sid}/revoke`),
      404,
      'resource_not_found',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${stranger.sid}`)).status).toBe('active')

    const revoked = ok(await laptop.json('POST', `/v1/me/sessions/${sidPhone}/revoke`)).response
    expect(revoked).toMatchObject({ id: sidPhone, status: 'revoked' })
    expectError(
      await phone.json('POST', `/v1/client/sessions/${sidPhone}/tokens`),
      401,
      'session_token_refused',
    )
    expectError(await phone.json('GET', '/v1/me'), 401, 'authentication_invalid')
    ok(await laptop.json('POST', `/v1/client/sessions/${sidLaptop}/tokens`))
    expect(ok(await laptop.json('GET', '/v1/me/sessions')).response.data.map((s: any) => s.id)).toEqual([
      sidLaptop,
    ])
    expect((await events(h, 'session.revoked')).map((e) => e.data.id)).toContain(sidPhone)

    expectError(await browser(h).json('GET', '/v1/me/sessions'), 401, 'authentication_invalid')
  })
})

describe('Backend API: sessions and clients', () => {
  it('lists by user and status, gets, revokes; unknown ids are 404', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const b1 = browser(h)
    const sid1 = await signIn(b1, emailOf(user))
    ok(await b1.json('POST', `/v1/client/sessions/${sid1}/end`))
    const b2 = browser(h)
    const sid2 = await signIn(b2, emailOf(user))
    await signedIn(h) // another user's session must not show up

    const active = ok(await bapiJson(h, 'GET', `/v1/sessions?user_id=${user.id}&status=active`))
    expect(active.data.map((s: any) => s.id)).toEqual([sid2])
    const ended = ok(await bapiJson(h, 'GET', `/v1/sessions?user_id=${user.id}&status=ended`))
    expect(ended.data.map((s: any) => s.id)).toEqual([sid1])

    const s2 = ok(await bapiJson(h, 'GET', `/v1/sessions/${sid2}`))
    expect(s2).toMatchObject({ object: 'session', id: sid2, user_id: user.id, status: 'active' })
    expect(s2.client_id).toMatch(/^client_/)
    const byClient = ok(await bapiJson(h, 'GET', `/v1/sessions?client_id=${s2.client_id}`))
    expect(byClient.data.map((s: any) => s.id)).toEqual([sid2])

    const revoked = ok(await bapiJson(h, 'POST', `/v1/sessions/${sid2}/revoke`))
    expect(revoked.status).toBe('revoked')
    expect(ok(await bapiJson(h, 'POST', `/v1/sessions/${sid2}/revoke`)).status).toBe('revoked')
    expect((await events(h, 'session.revoked')).filter((e) => e.data.id === sid2)).toHaveLength(1)
    expectError(await b2.json('POST', `/v1/client/sessions/${sid2}/tokens`), 401, 'session_token_refused')

    expectError(
      await bapiJson(h, 'GET', '/v1/sessions/sess_01HZZZZZZZZZZZZZZZZZZZZZZZ'),
      404,
      'resource_not_found',
    )
    expectError(await bapiJson(h, 'POST', '/v1/sessions/nope/revoke'), 404, 'resource_not_found')
    expectError(
      await bapiJson(h, 'GET', '/v1/sessions?user_id=u&status=sleepy'),
      422,
      'form_param_format_invalid',
      'status',
    )
  })

  it('GET /v1/sessions?user_id without status lists sessions of every status', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const b1 = browser(h)
    const sid1 = await signIn(b1, emailOf(user))
    ok(await b1.json('POST', `/v1/client/sessions/${sid1}/end`))
    const sid2 = await signIn(browser(h), emailOf(user))
    const all = ok(await bapiJson(h, 'GET', `/v1/sessions?user_id=${user.id}`))
    expect(all.data.map((s: any) => [s.id, s.status]).sort()).toEqual(
      [
        [sid1, 'ended'],
        [sid2, 'active'],
      ].sort(),
    )
  })

  it('GET /v1/sessions needs user_id or client_id (clerk-surface §7.3)', async () => {
    const h = await fresh()
    await signedIn(h)
    const r = await bapiJson(h, 'GET', '/v1/sessions')
    expect(r.status).toBeGreaterThanOrEqual(400)
    expect(r.status).toBeLessThan(500)
    expect(r.body.errors?.[0]?.code).toBeString()
  })

  it('GET /v1/clients/{id} and POST /v1/clients/verify', async () => {
    const h = await fresh()
    const { b, sid } = await signedIn(h)
    const token = b.cookie!
    const verified = ok(await bapiJson(h, 'POST', '/v1/clients/verify', { token }))
    expect(verified).toMatchObject({ object: 'client', session_ids: [sid], last_active_session_id: sid })
    const got = ok(await bapiJson(h, 'GET', `/v1/clients/${verified.id}`))
    expect(got).toEqual(verified)

    expectError(
      await bapiJson(h, 'POST', '/v1/clients/verify', { token: 'garbage' }),
      404,
      'resource_not_found',
    )
    expectError(await bapiJson(h, 'POST', '/v1/clients/verify', {}), 422, 'form_param_missing', 'token')
    expectError(
      await bapiJson(h, 'GET', '/v1/clients/client_01HZZZZZZZZZZZZZZZZZZZZZZZ'),
      404,
      'resource_not_found',
    )

    // a token from before a rotation no longer verifies
    ok(await b.json('POST', `/v1/client/sessions/${sid}/end`))
    const user2 = await createUser(h)
    await signIn(b, emailOf(user2))
    expect(b.cookie).not.toBe(token)
    expectError(await bapiJson(h, 'POST', '/v1/clients/verify', { token }), 404, 'resource_not_found')
    ok(await bapiJson(h, 'POST', '/v1/clients/verify', { token: b.cookie }))
  })

  it('emits session.created / ended / removed / revoked with the session', async () => {
    const h = await fresh()
    await patchInstance(h, { session: { multi_session: true } })
    const b = browser(h)
    const u1 = await createUser(h)
    const u2 = await createUser(h)
    const u3 = await createUser(h)
    const s1 = await signIn(b, emailOf(u1))
    const s2 = await signIn(b, emailOf(u2))
    const s3 = await signIn(b, emailOf(u3))
    ok(await b.json('POST', `/v1/client/sessions/${s1}/end`))
    ok(await b.json('POST', `/v1/client/sessions/${s2}/remove`))
    ok(await bapiJson(h, 'POST', `/v1/sessions/${s3}/revoke`))
    const created = await events(h, 'session.created')
    expect(created.map((e) => e.data.id).sort()).toEqual([s1, s2, s3].sort())
    expect(created.find((e) => e.data.id === s1).data).toMatchObject({
      object: 'session',
      user_id: u1.id,
      status: 'active',
    })
    expect((await events(h, 'session.ended')).map((e) => [e.data.id, e.data.status])).toEqual([[s1, 'ended']])
    expect((await events(h, 'session.removed')).map((e) => [e.data.id, e.data.status])).toEqual([
      [s2, 'removed'],
    ])
    expect((await events(h, 'session.revoked')).map((e) => [e.data.id, e.data.status])).toEqual([
      [s3, 'revoked'],
    ])
  })
})

describe('the client token', () => {
  it('rotates on sign-in: the old cookie no longer identifies the client', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const b = browser(h)
    const client = ok(await b.json('POST', '/v1/client')).response
    const old = b.cookie!
    const sid = await signIn(b, emailOf(user))
    expect(b.cookie).not.toBe(old)

    const stale = await h.request(`https://${h.env.host}/v1/client`, {
      headers: { cookie: `__authn_client=${old}` },
    })
    expect(((await stale.json()) as any).response).toBeNull()
    const staleToken = await h.request(`https://${h.env.host}/v1/client/sessions/${sid}/tokens`, {
      method: 'POST',
      headers: { cookie: `__authn_client=${old}` },
    })
    expect(staleToken.status).toBe(401)

    const current = ok(await b.json('GET', '/v1/client')).response
    expect(current.id).toBe(client.id)
    expect(current.last_active_session_id).toBe(sid)
  })

  it('native apps send it as a Bearer token and get the rotated one in the authorization header', async () => {
    const h = await fresh()
    const user = await createUser(h)
    const made = await browser(h).call('POST', '/v1/client')
    const token = made.headers.get('set-cookie')!.match(/__authn_client=([^;]*)/)![1]!
    const native = (path: string, method = 'GET', token_ = token, payload?: unknown) =>
      h.request(`https://${h.env.host}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token_}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        body: payload ? JSON.stringify(payload) : undefined,
      })

    const got = await native('/v1/client')
    expect(got.status).toBe(200)
    expect(((await got.json()) as any).response.id).toMatch(/^client_/)

    const res = await native('/v1/client/sign-ins', 'POST', token, {
      identifier: emailOf(user),
      password: PASSWORD,
      strategy: 'password',
    })
    expect(res.status).toBe(200)
    const out = (await res.json()) as any
    const rotated = res.headers.get('authorization')
    expect(rotated).toBeString()
    expect(rotated!.replace(/^Bearer /, '')).not.toBe(token)
    expect(res.headers.get('set-cookie')).toBeNull()

    const sid = out.response.created_session_id
    const withNew = await native(
      `/v1/client/sessions/${sid}/tokens`,
      'POST',
      rotated!.replace(/^Bearer /, ''),
    )
    expect(withNew.status).toBe(200)
    const withOld = await native(`/v1/client/sessions/${sid}/tokens`, 'POST', token)
    expect(withOld.status).toBe(401)
  })

  it("another client's session id is 404 on every session route, and nothing changes", async () => {
    const h = await fresh()
    const victim = await signedIn(h)
    const attacker = await signedIn(h)
    for (const [method, path] of [
      ['GET', `/v1/client/sessions/${victim.sid}`],
      ['POST', `/v1/client/sessions/${victim.sid}/tokens`],
      ['POST', `/v1/client/sessions/${victim.sid}/end`],
      ['POST', `/v1/client/sessions/${victim.sid}/remove`],
      ['POST', '/v1/client/sessions/not-a-session/tokens'],
    ] as const) {
      expectError(await attacker.b.json(method, path), 404, 'resource_not_found')
    }
    // with no client at all
    expectError(await browser(h).json('GET', `/v1/client/sessions/${victim.sid}`), 404, 'resource_not_found')
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${victim.sid}`)).status).toBe('active')
    ok(await victim.b.json('POST', `/v1/client/sessions/${victim.sid}/tokens`))
  })
})
