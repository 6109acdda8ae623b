import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

describe('GET /v1/events', () => {
  it('lists events newest first, filtered by type, with cursor paging', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      h.clock.advance(1000)
      const u = await body(
        await h.bapi('POST', '/v1/users', {
          email_address: [`e${i}@example.com`],
          password: 'correct horse battery',
        }),
      )
      ids.push(u.id)
    }
    h.clock.advance(1000)
    await h.bapi('POST', `/v1/users/${ids[0]}/ban`)
    const all = await body(await h.bapi('GET', '/v1/events?limit=2&include_total_count=true'))
    expect(all.total_count).toBe(4)
    expect(all.data.map((e: any) => e.type)).toEqual(['user.updated', 'user.created'])
    expect(all.data[0]).toMatchObject({ object: 'event', data: { id: ids[0], banned: true } })
    expect(all.data[0].id).toMatch(/^evt_/)
    const rest = await body(await h.bapi('GET', `/v1/events?limit=2&cursor=${all.meta.next_cursor}`))
    expect(rest.data.map((e: any) => e.data.id)).toEqual([ids[1], ids[0]])
    expect(rest.meta.next_cursor).toBeNull()
    const created = await body(await h.bapi('GET', '/v1/events?type=user.created&limit=10'))
    expect(created.data.map((e: any) => e.data.id)).toEqual([...ids].reverse())
  })

  it('writes the event in the same transaction as the change: a refused change leaves none', async () => {
    const before = (await body(await h.bapi('GET', '/v1/events?include_total_count=true'))).total_count
    await h.bapi('POST', '/v1/users', {
      email_address: ['e0@example.com'],
      password: 'correct horse battery',
    })
    const after = (await body(await h.bapi('GET', '/v1/events?include_total_count=true'))).total_count
    expect(after).toBe(before)
  })

  it('rejects a malformed type filter', async () => {
    expect((await h.bapi('GET', '/v1/events?type=drop table')).status).toBe(422)
  })
})
