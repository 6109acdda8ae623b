import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { browser } from '../../helpers/browser'
import { createHarness, type Harness } from '../../helpers/harness'
import { createUser, emailOf, expectError, ok, signIn } from '../support'

// GET /v1/me/sessions is a list like every other: limit 1..500 and an opaque cursor, refused
// with 422 / 400 when they are not. Today the route declares no query and returns every live
// session as a bare array, so any query is accepted with 200.
//
// Waits on src/flows/account/fapi.routes.ts (+ profile.ts, sessions service) declaring the
// query and paginating; flip `it.failing` to `it` when that lands.

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

describe('GET /v1/me/sessions', () => {
  it('refuses a bad limit (422) and a garbage cursor (400), and pages with a good one', async () => {
    const user = await createUser(h)
    const devices = [browser(h), browser(h), browser(h)]
    const sids: string[] = []
    for (const d of devices) sids.push(await signIn(d, emailOf(user)))
    const laptop = devices[0]!

    for (const limit of ['-1', '0', '501', 'abc', '1.5']) {
      const r = await laptop.json('GET', `/v1/me/sessions?limit=${limit}`)
      expect(`${limit} ${r.status}`).toBe(`${limit} 422`)
    }
    expectError(await laptop.json('GET', '/v1/me/sessions?cursor=garbage'), 400, 'pagination_cursor_invalid')

    const first = ok(await laptop.json('GET', '/v1/me/sessions?limit=2')).response
    expect(first.data).toHaveLength(2)
    expect(first.meta.next_cursor).toBeString()
    const rest = ok(
      await laptop.json(
        'GET',
        `/v1/me/sessions?limit=2&cursor=${encodeURIComponent(first.meta.next_cursor)}`,
      ),
    ).response
    expect(rest.meta.next_cursor).toBeNull()
    expect([...first.data, ...rest.data].map((s: { id: string }) => s.id).sort()).toEqual([...sids].sort())
  })
})
