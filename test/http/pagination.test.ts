import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { MAX_OFFSET } from '../../src/db/pages'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
const ids: string[] = []
beforeAll(async () => {
  h = await createHarness()
  for (let i = 0; i < 5; i++) {
    h.clock.advance(1000)
    const res = await h.bapi('POST', '/v1/jwt-templates', { name: `t${i}`, claims: { n: i } })
    ids.push((await body(res)).id)
  }
})
afterAll(() => h.close())

const list = async (query: string) => {
  const res = await h.bapi('GET', `/v1/jwt-templates?${query}`)
  return { status: res.status, body: await body(res) }
}

describe("Clerk's paging beside the seed's cursors", () => {
  it('skips `offset` rows, answers total_count always and keeps meta.next_cursor', async () => {
    const page = await list('limit=2&offset=1&paginated=true')
    expect(page.status).toBe(200)
    expect(page.body.data.map((t: any) => t.id)).toEqual([ids[3], ids[2]])
    expect(page.body.total_count).toBe(5)
    expect(page.body.meta.next_cursor).toBeString()

    // The cursor goes on from the page's last row; an offset after a cursor skips from there.
    const next = await list(`limit=2&cursor=${page.body.meta.next_cursor}`)
    expect(next.body.data.map((t: any) => t.id)).toEqual([ids[1], ids[0]])
    const skipped = await list(`limit=2&offset=1&cursor=${page.body.meta.next_cursor}`)
    expect(skipped.body.data.map((t: any) => t.id)).toEqual([ids[0]])
    expect(skipped.body.meta.next_cursor).toBeNull()

    const past = await list('offset=7')
    expect(past.body).toMatchObject({ data: [], total_count: 5, meta: { next_cursor: null } })
    expect((await list('')).body.total_count).toBe(5)
  })

  it('refuses a negative or too deep offset with 422', async () => {
    for (const q of ['offset=-1', `offset=${MAX_OFFSET + 1}`, 'offset=abc', 'paginated=maybe']) {
      const r = await list(q)
      expect(r.status).toBe(422)
      expect(r.body.errors[0].code).toBe('form_param_format_invalid')
    }
  })

  it('answers GET /v1/users without a total unless asked, as Clerk does', async () => {
    await h.bapi('POST', '/v1/users', {
      email_address: ['paging@example.com'],
      password: 'correct horse battery',
    })
    const plain = await body(await h.bapi('GET', '/v1/users?offset=0&limit=1'))
    expect(plain.total_count).toBeUndefined()
    expect(plain.data).toHaveLength(1)
    expect((await body(await h.bapi('GET', '/v1/users?paginated=true'))).total_count).toBe(1)
    expect((await body(await h.bapi('GET', '/v1/users?include_total_count=true'))).total_count).toBe(1)
  })
})
