import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Harness } from '../../helpers/harness'
import { ENTERPRISE, expectScimError, filter, GROUP, type Idp, idp, scimHarness, USER } from './support'

/**
 * Filters (RFC 7644 §3.4.2.2) against a small directory: each filter and the exact set of users
 * it must find. Covers every operator, the caseExact rules, value paths (same-value semantics),
 * precedence of not/and/or, dates, booleans, extensions, and another organization's users.
 */

let h: Harness
let a: Idp
let b: Idp
const ids: Record<string, string> = {}

const person = (userName: string, extra: Record<string, unknown>) => ({
  schemas: [USER, ENTERPRISE],
  userName,
  ...extra,
})

beforeAll(async () => {
  h = await scimHarness()
  a = await idp(h)
  b = await idp(h)
  const people: Array<[string, Record<string, unknown>]> = [
    [
      'bjensen',
      {
        externalId: 'BJ-1',
        name: { givenName: 'Barbara', familyName: 'Jensen' },
        title: 'Tour Guide',
        emails: [
          { value: 'bjensen@example.com', type: 'work', primary: true },
          { value: 'babs@home.example', type: 'home' },
        ],
        [ENTERPRISE]: { department: 'Sales' },
      },
    ],
    [
      'JSmith',
      {
        externalId: 'js-2',
        active: false,
        name: { givenName: 'John', familyName: 'Smith' },
        emails: [{ value: 'jsmith@example.com', type: 'work', primary: true }],
        [ENTERPRISE]: { department: 'Engineering' },
      },
    ],
    [
      "amy.o'neil",
      {
        externalId: 'AMY-3',
        displayName: 'Amy O',
        title: 'Engineer',
        name: { givenName: 'Amy', familyName: "O'Neil" },
        emails: [{ value: 'amy@other.example', type: 'home', primary: true }],
      },
    ],
    [
      'zed%_',
      {
        name: { givenName: 'Zed', familyName: 'Zulu' },
        emails: [{ value: 'zed@example.com', type: 'work' }],
      },
    ],
  ]
  for (const [userName, extra] of people) {
    const r = await a.call('POST', '/Users', person(userName, extra))
    expect(r.status).toBe(201)
    ids[userName] = r.body.id
    h.clock.advance(1000)
  }
  // Another organization's directory has a look-alike.
  const other = await b.call(
    'POST',
    '/Users',
    person('bjensen', {
      emails: [{ value: 'bjensen@b-corp.example', type: 'work', primary: true }],
      title: 'Tour Guide',
    }),
  )
  expect(other.status).toBe(201)
  ids.other = other.body.id
  const g = await a.call('POST', '/Groups', {
    schemas: [GROUP],
    displayName: 'Admins',
    members: [{ value: ids.bjensen }, { value: ids["amy.o'neil"] }],
  })
  expect(g.status).toBe(201)
})
afterAll(() => h.close())

const CASES: Array<[string, string[]]> = [
  // eq / ne and caseExact
  ['userName eq "BJENSEN"', ['bjensen']],
  ['userName eq "jsmith"', ['JSmith']],
  ['userName ne "bjensen"', ['JSmith', "amy.o'neil", 'zed%_']],
  ['externalId eq "bj-1"', []],
  ['externalId eq "BJ-1"', ['bjensen']],
  ['externalId sw "AMY"', ["amy.o'neil"]],
  ['externalId sw "amy"', []],
  ['externalId co "s-"', ['JSmith']],
  ['externalId ew "-3"', ["amy.o'neil"]],
  // co / sw / ew, with LIKE's wildcards taken literally
  ['userName co "SMI"', ['JSmith']],
  ['userName sw "b"', ['bjensen']],
  ['userName ew "NEIL"', ["amy.o'neil"]],
  ['userName co "%"', ['zed%_']],
  ['userName co "_"', ['zed%_']],
  ['userName sw ""', ['bjensen', 'JSmith', "amy.o'neil", 'zed%_']],
  // gt / ge / lt / le on strings (case-insensitive order)
  ['userName gt "j"', ['JSmith', 'zed%_']],
  ['userName ge "jsmith"', ['JSmith', 'zed%_']],
  ['userName lt "b"', ["amy.o'neil"]],
  ['userName le "amy.o\'neil"', ["amy.o'neil"]],
  // pr, booleans (Entra's string booleans too)
  ['title pr', ['bjensen', "amy.o'neil"]],
  ['not (title pr)', ['JSmith', 'zed%_']],
  ['active eq false', ['JSmith']],
  ['active eq "True"', ['bjensen', "amy.o'neil", 'zed%_']],
  ['active ne true', ['JSmith']],
  // complex and extension attributes, attribute names case-insensitive, URN-qualified core paths
  ['name.givenName eq "barbara"', ['bjensen']],
  ['name.familyName sw "o\'"', ["amy.o'neil"]],
  ['NAME.GIVENNAME Eq "zed"', ['zed%_']],
  ['displayName eq "amy o"', ["amy.o'neil"]],
  [`${ENTERPRISE}:department eq "sales"`, ['bjensen']],
  [`${USER}:userName eq "ZED%_"`, ['zed%_']],
  // multi-valued: any value matches; value paths constrain one value
  ['emails.value eq "BABS@home.example"', ['bjensen']],
  ['emails co "example.com"', ['bjensen', 'JSmith', 'zed%_']],
  ['emails.type eq "home"', ['bjensen', "amy.o'neil"]],
  ['emails[type eq "work"].value eq "bjensen@example.com"', ['bjensen']],
  ['emails[type eq "work"].value eq "babs@home.example"', []],
  ['emails[type eq "home" and value co "home"]', ['bjensen']],
  ['emails[primary eq true].value ew "other.example"', ["amy.o'neil"]],
  ['emails[primary eq "True"]', ['bjensen', 'JSmith', "amy.o'neil"]],
  ['emails pr', ['bjensen', 'JSmith', "amy.o'neil", 'zed%_']],
  ['groups[display eq "ADMINS"]', ['bjensen', "amy.o'neil"]],
  // precedence: not > and > or; parentheses
  ['userName eq "bjensen" or userName eq "jsmith" and active eq true', ['bjensen']],
  ['(userName eq "bjensen" or userName eq "jsmith") and active eq false', ['JSmith']],
  ['userName eq "jsmith" and active eq false or title eq "engineer"', ['JSmith', "amy.o'neil"]],
  ['not (userName eq "bjensen" or title pr)', ['JSmith', 'zed%_']],
  ['not (userName eq "bjensen") and not (userName eq "zed%_")', ['JSmith', "amy.o'neil"]],
  // dates
  ['meta.created ge "2026-01-01T00:00:02Z"', ["amy.o'neil", 'zed%_']],
  ['meta.created lt "2026-01-01T00:00:01Z"', ['bjensen']],
  ['meta.lastModified eq "2026-01-01T00:00:01.000Z"', ['JSmith']],
  // values are bound, never spliced
  ['userName eq "bjensen\\" or \\"1\\" eq \\"1"', []],
  ['userName eq "x\') or 1=1 --"', []],
]

describe('filters over a directory', () => {
  it.each(CASES)('%s', async (f, expected) => {
    const r = await a.call('GET', `/Users?${filter(f)}`)
    expect(r.status).toBe(200)
    expect(r.body.Resources.map((u: any) => u.userName)).toEqual(expected)
    expect(r.body.totalResults).toBe(expected.length)
  })

  it("never finds another organization's users, even the same filter", async () => {
    const r = await b.call('GET', `/Users?${filter('userName eq "bjensen" or title pr')}`)
    expect(r.body.Resources.map((u: any) => u.id)).toEqual([ids.other])
    const mine = await a.call('GET', `/Users?${filter(`id eq "${ids.other}"`)}`)
    expect(mine.body.totalResults).toBe(0)
  })

  it('filters groups by displayName and members', async () => {
    const cases: Array<[string, string[]]> = [
      ['displayName eq "admins"', ['Admins']],
      ['displayName co "dmi"', ['Admins']],
      [`members[value eq "${ids.bjensen}"]`, ['Admins']],
      [`members.value eq "${ids.JSmith}"`, []],
      ['not (members pr)', []],
    ]
    for (const [f, expected] of cases) {
      const r = await a.call('GET', `/Groups?excludedAttributes=members&${filter(f)}`)
      expect({ f, got: r.body.Resources.map((g: any) => g.displayName) }).toEqual({ f, got: expected })
    }
    expect((await b.call('GET', '/Groups')).body.totalResults).toBe(0)
  })

  it('sorts, pages and projects', async () => {
    const names = async (q: string) => (await a.call('GET', `/Users?${q}`)).body
    expect((await names('sortBy=userName')).Resources.map((u: any) => u.userName)).toEqual([
      "amy.o'neil",
      'bjensen',
      'JSmith',
      'zed%_',
    ])
    expect(
      (await names('sortBy=meta.created&sortOrder=descending')).Resources.map((u: any) => u.userName),
    ).toEqual(['zed%_', "amy.o'neil", 'JSmith', 'bjensen'])
    expect((await names('sortBy=emails.value')).Resources.map((u: any) => u.userName)).toEqual([
      "amy.o'neil",
      'bjensen',
      'JSmith',
      'zed%_',
    ])
    const page = await names('startIndex=2&count=2')
    expect(page).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 })
    expect(page.Resources.map((u: any) => u.userName)).toEqual(['JSmith', "amy.o'neil"])
    expect(await names('count=0')).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] })
    expect(await names('count=-5&startIndex=-3')).toMatchObject({
      totalResults: 4,
      startIndex: 1,
      itemsPerPage: 0,
    })
    expect((await names('count=99999999')).itemsPerPage).toBe(4)
    const projected = await names(`attributes=userName,emails.value&${filter('userName eq "bjensen"')}`)
    expect(projected.Resources).toEqual([
      {
        schemas: [USER, ENTERPRISE],
        id: ids.bjensen,
        userName: 'bjensen',
        emails: [{ value: 'bjensen@example.com' }, { value: 'babs@home.example' }],
      },
    ])
    const excluded = await names(
      `excludedAttributes=emails,name,meta,groups&${filter('userName eq "bjensen"')}`,
    )
    expect(Object.keys(excluded.Resources[0]).sort()).toEqual(
      ['schemas', 'id', 'externalId', 'userName', 'title', 'active', ENTERPRISE].sort(),
    )
    const one = await a.call('GET', `/Users/${ids.bjensen}?attributes=name.familyName`)
    expect(one.body).toEqual({ schemas: [USER, ENTERPRISE], id: ids.bjensen, name: { familyName: 'Jensen' } })
  })

  it('refuses sorting by what it cannot sort', async () => {
    expectScimError(await a.call('GET', '/Users?sortBy=password'), 400, 'invalidFilter')
  })
})
