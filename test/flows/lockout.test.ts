import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { bapiJson, createUser, emailOf, expectError, ok, PASSWORD } from './support'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

const liveSessions = async (userId: string) =>
  ok(await bapiJson(h, 'GET', `/v1/sessions?user_id=${userId}&status=active`)).data as unknown[]

describe('the lockout holds under concurrency', () => {
  it('wrong passwords racing the right one: once locked, the right one makes no session', async () => {
    const user = await createUser(h)
    const identifier = emailOf(user)
    // Twenty wrong passwords (twice the lockout threshold, within the per-env hashing queue), then
    // the right one, all in flight at once: every request passes the lock check before its hash
    // runs, and the hashes finish in order (one env's queue is FIFO).
    const wrong = Array.from({ length: 20 }, () =>
      browser(h).json('POST', '/v1/client/sign-ins', { identifier, password: 'wrong horse battery' }),
    )
    const right = browser(h).json('POST', '/v1/client/sign-ins', { identifier, password: PASSWORD })
    const replies = await Promise.all([...wrong, right])
    const last = replies.at(-1)!
    expectError(last, 403, 'user_locked')
    expect(await liveSessions(user.id)).toEqual([])
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).locked).toBe(true)
  })

  it('a challenge answer racing the lock is refused the same way', async () => {
    const user = await createUser(h)
    const b = browser(h)
    const created = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user) }))
    const id = created.response.id
    const others = Array.from({ length: 12 }, () => browser(h))
    const wrong = others.map((o) =>
      o.json('POST', '/v1/client/sign-ins', { identifier: emailOf(user), password: 'wrong horse battery' }),
    )
    const right = b.json('POST', `/v1/client/sign-ins/${id}/challenges/password/answer`, {
      password: PASSWORD,
    })
    const replies = await Promise.all([...wrong, right])
    expectError(replies.at(-1)!, 403, 'user_locked')
    expect(await liveSessions(user.id)).toEqual([])
  })
})
