import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import SCIMMY from 'scimmy'
import type { Harness } from '../../helpers/harness'
import { ENTERPRISE, entraUser, GROUP, type Idp, idp, LIST, scimHarness, USER } from './support'

/**
 * Our resources and schema documents checked by an independent SCIM implementation: SCIMMY's
 * RFC 7643 schema definitions coerce every User and Group we answer (they throw on a value of
 * the wrong type, a missing required attribute or a malformed complex value), and our /Schemas
 * must describe every attribute as SCIMMY does.
 */

let h: Harness
let a: Idp
beforeAll(async () => {
  h = await scimHarness()
  a = await idp(h)
})
afterAll(() => h.close())

const KEYS = ['type', 'multiValued', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness'] as const

/** Differences between two attribute lists, by name, recursively into sub-attributes. */
function differences(path: string, ours: any[], theirs: any[], out: string[]) {
  for (const t of theirs) {
    const o = ours.find((x) => x.name === t.name)
    if (!o) {
      out.push(`${path}${t.name} is missing`)
      continue
    }
    for (const k of KEYS)
      if (t[k] !== undefined && o[k] !== t[k]) out.push(`${path}${t.name}.${k}: ${o[k]} ≠ ${t[k]}`)
    if (t.subAttributes) differences(`${path}${t.name}.`, o.subAttributes ?? [], t.subAttributes, out)
  }
  for (const o of ours)
    if (!theirs.find((t) => t.name === o.name)) out.push(`${path}${o.name} is not in RFC 7643`)
}

describe('conformance with SCIMMY (RFC 7643 schemas)', () => {
  it('describes every attribute in /Schemas as SCIMMY does', async () => {
    const r = await a.call('GET', '/Schemas')
    expect(r.body.schemas).toEqual([LIST])
    const ours = new Map<string, any>(r.body.Resources.map((s: any) => [s.id, s]))
    const theirs = [SCIMMY.Schemas.User, SCIMMY.Schemas.EnterpriseUser, SCIMMY.Schemas.Group].map((s) =>
      s.definition.describe(`https://${h.env.host}/scim/v2`),
    )
    const out: string[] = []
    for (const t of theirs) {
      const o = ours.get(t.id)
      expect(o).toBeDefined()
      expect(o.name).toBe(t.name)
      differences(`${t.name}.`, o.attributes, t.attributes, out)
      // One schema by its URN, as Entra reads it.
      expect((await a.call('GET', `/Schemas/${t.id}`)).body.id).toBe(t.id)
    }
    expect(out).toEqual([])
  })

  it('answers Users and Groups that SCIMMY coerces without complaint, values unchanged', async () => {
    const full = entraUser('frank', {
      displayName: 'Frank F',
      nickName: 'Frankie',
      title: 'Dispatcher',
      locale: 'en-GB',
      timezone: 'Europe/London',
      profileUrl: 'https://people.contoso.example/frank',
      phoneNumbers: [{ value: '+44 20 7946 0000', type: 'work', primary: true }],
      addresses: [
        { streetAddress: '1 Main St', locality: 'London', country: 'GB', type: 'work', primary: true },
      ],
      roles: [{ value: 'dispatcher', primary: true }],
      [ENTERPRISE]: { employeeNumber: '7', department: 'Ops', manager: { value: 'boss-1' } },
    })
    const frank = await a.call('POST', '/Users', full)
    const plain = await a.call('POST', '/Users', entraUser('gina', { active: false }))
    await a.call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Dispatch',
      members: [{ value: frank.body.id }, { value: plain.body.id }],
    })
    const users = (await a.call('GET', '/Users')).body.Resources
    expect(users).toHaveLength(2)
    for (const u of users) {
      const { [ENTERPRISE]: ext, ...core } = u
      const coerced = SCIMMY.Schemas.User.definition.coerce(core, 'out')
      for (const k of ['id', 'userName', 'name', 'emails', 'active', 'phoneNumbers', 'addresses', 'groups'])
        expect({ k, v: coerced[k] }).toEqual({ k, v: core[k] })
      if (ext) {
        // The extension's definition is a schema of its own (id and schemas required).
        const e = SCIMMY.Schemas.EnterpriseUser.definition.coerce(
          { schemas: [ENTERPRISE], id: u.id, ...ext },
          'out',
        )
        expect(e).toMatchObject(ext)
      }
    }
    const groups = (await a.call('GET', '/Groups')).body.Resources
    for (const g of groups) {
      const coerced = SCIMMY.Schemas.Group.definition.coerce(g, 'out')
      expect(coerced.displayName).toBe(g.displayName)
      expect(coerced.members.map((m: any) => m.value)).toEqual(g.members.map((m: any) => m.value))
    }
    // And SCIMMY accepts what we keep as input: the stored user, read back, is a valid body.
    const { id: _id, meta: _meta, groups: _groups, ...body } = users[0]
    expect(() => SCIMMY.Schemas.User.definition.coerce({ ...body, schemas: [USER] }, 'in')).not.toThrow()
  })

  it('serves ResourceTypes SCIMMY coerces, and the ServiceProviderConfig we advertise', async () => {
    const types = await a.call('GET', '/ResourceTypes')
    expect(types.body).toMatchObject({ schemas: [LIST], totalResults: 2 })
    for (const t of types.body.Resources) {
      expect(() => SCIMMY.Schemas.ResourceType.definition.coerce(t, 'out')).not.toThrow()
      expect((await a.call('GET', `/ResourceTypes/${t.id}`)).body).toEqual(t)
    }
    const spc = await h.request(`https://${h.env.host}/scim/v2/ServiceProviderConfig`)
    expect(spc.status).toBe(200)
    const config: any = await spc.json()
    // SCIMMY 1.3.5 does not know authenticationSchemes[].primary (RFC 7643 §8.5's example has
    // it, and the reference asks for it), and throws on it: coerced without it.
    const schemes = config.authenticationSchemes.map(({ primary: _p, ...rest }: any) => rest)
    expect(() =>
      SCIMMY.Schemas.ServiceProviderConfig.definition.coerce(
        { ...config, authenticationSchemes: schemes },
        'out',
      ),
    ).not.toThrow()
    expect(config).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
    })
  })
})
