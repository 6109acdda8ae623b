import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Harness } from '../../helpers/harness'
import {
  entraUser,
  expectScimError,
  filter,
  GROUP,
  type Idp,
  idp,
  PATCH_OP,
  scimHarness,
  USER,
} from './support'

/**
 * Bad input on /scim/v2: every refusal is an RFC 7644 error body (status as a string, the right
 * scimType), nothing changes, and nothing is a 5xx.
 */

let h: Harness
let a: Idp
let b: Idp
let userId: string
let groupId: string

beforeAll(async () => {
  h = await scimHarness()
  a = await idp(h)
  b = await idp(h)
  userId = (await a.call('POST', '/Users', entraUser('carol'))).body.id
  groupId = (
    await a.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: userId }] })
  ).body.id
})
afterAll(() => h.close())

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const snapshot = async () => (await a.call('GET', `/Users/${userId}`)).body

describe('filters', () => {
  const BAD = [
    'userName eq',
    'userName eq "x',
    'userName eq "x" and',
    'emails[type eq "work"',
    '(userName eq "x"',
    'nope eq "x"',
    'password eq "x"',
    'userName zz "x"',
    'userName eq 1',
    'userName eq true',
    'userName eq null',
    'active gt true',
    'active eq "maybe"',
    'meta.created eq "not a date"',
    'meta.created co "2026"',
    'name[givenName eq "x"]',
    'emails[value[type eq "x"]]',
    'userName eq "x" or 1 eq 1',
    `userName eq "${'x'.repeat(3000)}"`,
    Array.from({ length: 80 }, (_, i) => `userName eq "u${i}"`).join(' or '),
  ]
  it.each(BAD)('refuses %s with invalidFilter', async (f) => {
    expectScimError(await a.call('GET', `/Users?${filter(f.slice(0, 4000))}`), 400, 'invalidFilter')
  })

  it('refuses bad groups filters too', async () => {
    expectScimError(await a.call('GET', `/Groups?${filter('userName eq "x"')}`), 400, 'invalidFilter')
    expectScimError(await a.call('GET', `/Groups?${filter('members[display eq "x"]')}`), 400, 'invalidFilter')
  })

  it('refuses a count or startIndex that is not a number; clamps numbers', async () => {
    expectScimError(await a.call('GET', '/Users?count=ten'), 400, 'invalidValue')
    expectScimError(await a.call('GET', '/Users?startIndex=1e3'), 400, 'invalidValue')
    expect((await a.call('GET', '/Users?count=-1')).body.itemsPerPage).toBe(0)
    expect((await a.call('GET', '/Users?count=100000000000')).status).toBe(200)
  })
})

describe('writes', () => {
  it('refuses users without userName or email, with two primaries, or a bad address', async () => {
    const cases: Array<[unknown, string]> = [
      [{ schemas: [USER], emails: [{ value: 'x@example.com' }] }, 'invalidValue'],
      [{ schemas: [USER], userName: 'noemail' }, 'invalidValue'],
      [{ schemas: [USER], userName: '  ', emails: [{ value: 'x@example.com' }] }, 'invalidValue'],
      [{ schemas: [USER], userName: 'bad', emails: [{ value: 'not an address' }] }, 'invalidValue'],
      [
        {
          schemas: [USER],
          userName: 'two',
          emails: [
            { value: 'a@example.com', primary: true },
            { value: 'b@example.com', primary: true },
          ],
        },
        'invalidValue',
      ],
      [{ schemas: [USER], userName: 'typed', emails: 'a@example.com' }, 'invalidValue'],
      [
        { schemas: [USER], userName: 'typed', name: 'Carol', emails: [{ value: 'a@example.com' }] },
        'invalidValue',
      ],
      [
        { schemas: [USER], userName: 'typed', active: 'maybe', emails: [{ value: 'a@example.com' }] },
        'invalidValue',
      ],
      [{ userName: 'noschemas', emails: [{ value: 'a@example.com' }] }, 'invalidSyntax'],
      [[{ schemas: [USER] }], 'invalidSyntax'],
    ]
    for (const [payload, type] of cases) expectScimError(await a.call('POST', '/Users', payload), 400, type)
    // A taken userName (in any case) or address is a 409.
    expectScimError(await a.call('POST', '/Users', entraUser('CAROL')), 409, 'uniqueness')
    expectScimError(
      await a.call('POST', '/Users', { ...entraUser('other'), emails: [{ value: 'carol@contoso.example' }] }),
      409,
      'uniqueness',
    )
    expect((await a.call('GET', '/Users')).body.totalResults).toBe(1)
  })

  it('refuses bad PATCH operations and changes nothing, even when an earlier op was good', async () => {
    const before = await snapshot()
    const cases: Array<[unknown, number, string]> = [
      [patch({ op: 'merge', path: 'title', value: 'x' }), 400, 'invalidSyntax'],
      [patch({ op: 'replace', path: 'id', value: 'user_01ARZ3NDEKTSV4RRFFQ69G5FAV' }), 400, 'mutability'],
      [patch({ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }), 400, 'mutability'],
      [patch({ op: 'add', path: 'groups', value: [{ value: groupId }] }), 400, 'mutability'],
      [patch({ op: 'replace', value: { id: 'user_01ARZ3NDEKTSV4RRFFQ69G5FAV' } }), 400, 'mutability'],
      [patch({ op: 'replace', path: 'nope', value: 'x' }), 400, 'invalidPath'],
      [patch({ op: 'replace', path: 'name.nope', value: 'x' }), 400, 'invalidPath'],
      [patch({ op: 'replace', path: 'urn:example:custom:2.0:User:x', value: 'x' }), 400, 'invalidPath'],
      [patch({ op: 'replace', path: 'title[type eq "x"]', value: 'x' }), 400, 'invalidPath'],
      [patch({ op: 'remove' }), 400, 'noTarget'],
      [patch({ op: 'replace', value: 'just a string' }), 400, 'invalidValue'],
      [
        patch(
          { op: 'Replace', path: 'title', value: 'Boss' },
          { op: 'replace', path: 'active', value: 'maybe' },
        ),
        400,
        'invalidValue',
      ],
      [
        patch(
          { op: 'replace', path: 'title', value: 'Boss' },
          { op: 'replace', path: 'userName', value: '' },
        ),
        400,
        'invalidValue',
      ],
      [patch({ op: 'remove', path: 'emails' }), 400, 'invalidValue'],
      [patch(), 400, 'invalidSyntax'],
      [{ Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, 400, 'invalidSyntax'],
      [{ schemas: [PATCH_OP], Operations: 'replace' }, 400, 'invalidSyntax'],
    ]
    for (const [payload, status, type] of cases) {
      const r = await a.call('PATCH', `/Users/${userId}`, payload)
      expect({ payload, status: r.status, type: r.body?.scimType }).toEqual({ payload, status, type })
      expectScimError(r, status, type)
    }
    expect(await snapshot()).toEqual(before)
  })

  it('ignores read-only attributes in PUT (id, meta, groups)', async () => {
    const r = await a.call('PUT', `/Users/${userId}`, {
      ...entraUser('carol'),
      id: 'user_01ARZ3NDEKTSV4RRFFQ69G5FAV',
      meta: { created: '2000-01-01T00:00:00Z' },
      groups: [],
      title: 'Operator',
    })
    expect(r.status).toBe(200)
    expect(r.body.id).toBe(userId)
    expect(r.body.title).toBe('Operator')
    expect(r.body.groups.map((g: any) => g.value)).toEqual([groupId])
    expect(r.body.meta.created).toBe(new Date(h.clock.now()).toISOString())
  })

  it('refuses bad groups: no name, a taken name, members of no one here', async () => {
    expectScimError(await a.call('POST', '/Groups', { schemas: [GROUP], members: [] }), 400, 'invalidValue')
    expectScimError(
      await a.call('POST', '/Groups', { schemas: [GROUP], displayName: 'OPS' }),
      409,
      'uniqueness',
    )
    expectScimError(
      await a.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'X',
        members: [{ value: 'user_01ARZ3NDEKTSV4RRFFQ69G5FAV' }],
      }),
      400,
      'invalidValue',
    )
    expectScimError(
      await a.call(
        'PATCH',
        `/Groups/${groupId}`,
        patch({ op: 'add', path: 'members', value: [{ display: 'no value' }] }),
      ),
      400,
      'invalidValue',
    )
  })
})

describe('the transport', () => {
  it('refuses a wrong content type, malformed JSON and bodies over the cap', async () => {
    const text = await a.call('POST', '/Users', 'userName=x', { 'content-type': 'text/plain' })
    expectScimError(text, 415)
    expectScimError(await a.call('POST', '/Users', '{"schemas": ['), 400, 'invalidSyntax')
    const huge = { ...entraUser('huge'), title: 'x'.repeat(1024 * 1024 + 10) }
    expectScimError(await a.call('POST', '/Users', huge), 413)
    expectScimError(
      await a.call('POST', '/Users', { ...entraUser('long'), title: 'x'.repeat(5000) }),
      400,
      'invalidValue',
    )
  })

  it('answers unknown routes, Bulk and missing tokens with SCIM bodies', async () => {
    expectScimError(await a.call('GET', '/Nope'), 404)
    expectScimError(
      await a.call('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'] }),
      501,
    )
    const none = await h.request(`https://${h.env.host}/scim/v2/Users`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
    const sk = await h.request(`https://${h.env.host}/scim/v2/Users`, {
      headers: { authorization: `Bearer ${h.env.secretKey}` },
    })
    expect(sk.status).toBe(401)
  })

  it('honours ETags: If-None-Match → 304, a stale If-Match → 412', async () => {
    const current = await a.call('GET', `/Users/${userId}`)
    const etag = current.headers.get('etag')!
    expect(etag).toBe(current.body.meta.version)
    expect((await a.call('GET', `/Users/${userId}`, undefined, { 'if-none-match': etag })).status).toBe(304)
    expectScimError(
      await a.call('PATCH', `/Users/${userId}`, patch({ op: 'replace', path: 'title', value: 'x' }), {
        'if-match': 'W/"999"',
      }),
      412,
    )
    const ok = await a.call(
      'PATCH',
      `/Users/${userId}`,
      patch({ op: 'replace', path: 'title', value: 'y' }),
      { 'if-match': etag },
    )
    expect(ok.status).toBe(200)
  })
})

describe("another organization's ids", () => {
  it('are 404 through this token, and cannot be made members', async () => {
    const before = await snapshot()
    expectScimError(await b.call('GET', `/Users/${userId}`), 404)
    expectScimError(await b.call('PUT', `/Users/${userId}`, entraUser('carol')), 404)
    expectScimError(
      await b.call('PATCH', `/Users/${userId}`, patch({ op: 'replace', path: 'active', value: false })),
      404,
    )
    expectScimError(await b.call('DELETE', `/Users/${userId}`), 404)
    expectScimError(await b.call('GET', `/Groups/${groupId}`), 404)
    expectScimError(await b.call('DELETE', `/Groups/${groupId}`), 404)
    expectScimError(
      await b.call('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Steal',
        members: [{ value: userId }],
      }),
      400,
      'invalidValue',
    )
    expect(await snapshot()).toEqual(before)
    // The same person provisioned again by the other organization is refused, not linked.
    expectScimError(await b.call('POST', '/Users', entraUser('carol')), 409, 'uniqueness')
  })
})
