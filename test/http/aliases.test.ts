import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { pathAliases } from '../../src/http/aliases'
import { BAPI_ALIASES } from '../../src/http/bapi/aliases'
import { body, createHarness, type Harness } from '../helpers/harness'

describe('path aliases', () => {
  const aliases = pathAliases([
    { from: '/v1/a_b/:id/c_d', to: '/v1/a-b/:id/c-d' },
    { from: '/v1/x/:id/pending', to: '/v1/x/:id/items', methods: ['GET'], query: { status: 'pending' } },
  ])

  it('maps a spelling to its route, parameters carried over', () => {
    expect(aliases.resolve('/v1/a_b/user_1/c_d', 'POST')).toEqual({
      path: '/v1/a-b/user_1/c-d',
      query: undefined,
    })
    expect(aliases.resolve('/v1/x/org_1/pending', 'GET')).toEqual({
      path: '/v1/x/org_1/items',
      query: { status: 'pending' },
    })
  })

  it('leaves other paths, lengths and methods alone', () => {
    expect(aliases.resolve('/v1/a-b/user_1/c-d', 'POST')).toBeNull()
    expect(aliases.resolve('/v1/a_b/user_1', 'POST')).toBeNull()
    expect(aliases.resolve('/v1/x/org_1/pending', 'POST')).toBeNull()
  })

  it('refuses a table whose target names a parameter the spelling does not bind', () => {
    expect(() => pathAliases([{ from: '/v1/a', to: '/v1/b/:id' }])).toThrow(/does not bind :id/)
  })

  it('has a BAPI table that compiles', () => {
    expect(pathAliases(BAPI_ALIASES).table.length).toBeGreaterThan(5)
  })
})

describe('BAPI with aliases', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it('serves the seed path and the alias from one route, and an alias without its route is a 404', async () => {
    const made = await body(await h.bapi('POST', '/v1/jwt_templates', { name: 'aliased', claims: {} }))
    expect(made.object).toBe('jwt_template')
    const seed = await body(await h.bapi('GET', `/v1/jwt-templates/${made.id}`))
    const alias = await body(await h.bapi('GET', `/v1/jwt_templates/${made.id}`))
    expect(alias).toEqual(seed)
    const res = await h.bapi('GET', '/v1/users/user_x/verify_password')
    expect(res.status).toBe(404)
    expect((await body(res)).errors[0].code).toBe('route_not_found')
  })
})
