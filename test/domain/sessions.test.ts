import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bapiJson, createUser, ok, signIn } from '../flows/support'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

describe('BAPI session lists by effective status', () => {
  it('pages are full: a status filter that only deadlines decide is applied in the query', async () => {
    const user = await createUser(h)
    const email = user.email_addresses[0].email_address
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      ids.push(await signIn(browser(h), email))
      h.clock.advance(3600_000)
    }
    // The oldest passes its 7-day lifetime; the newer two are still active.
    h.clock.advance(7 * 86400_000 - 3 * 3600_000 + 1800_000)
    const list = (status: string, cursor?: string) =>
      bapiJson(
        h,
        'GET',
        `/v1/sessions?user_id=${user.id}&status=${status}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      )
    const expired = ok(await list('expired'))
    expect(expired.data.map((s: { id: string }) => s.id)).toEqual([ids[0]])
    expect(expired.meta.next_cursor).toBeNull()
    const first = ok(await list('active'))
    expect(first.data.map((s: { id: string }) => s.id)).toEqual([ids[2]])
    const second = ok(await list('active', first.meta.next_cursor))
    expect(second.data.map((s: { id: string }) => s.id)).toEqual([ids[1]])
    expect(second.meta.next_cursor).toBeNull()
    const all = ok(await bapiJson(h, 'GET', `/v1/sessions?user_id=${user.id}&include_total_count=true`))
    expect(all.total_count).toBe(3)
  })
})
