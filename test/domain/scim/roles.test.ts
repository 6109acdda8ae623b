import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { browser } from '../../helpers/browser'
import type { Harness } from '../../helpers/harness'
import { bapi, entraUser, eventTypes, GROUP, type Idp, idp, PATCH_OP, scimHarness } from './support'

let h: Harness
let a: Idp
beforeAll(async () => {
  h = await scimHarness()
  a = await idp(h)
})
afterAll(() => h.close())

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })
const roleOf = async (userId: string) =>
  (await bapi(h, 'GET', `/v1/organizations/${a.orgId}/memberships?limit=100`)).data.find(
    (m: any) => m.public_user_data.user_id === userId,
  )?.role

describe('groups map to organization roles', () => {
  it('grants the mapped role while the user is in the group, and follows renames, deletes and mapping changes', async () => {
    await bapi(h, 'PUT', `/v1/organizations/${a.orgId}/scim/attribute-mappings`, {
      mapping: {
        'name.givenName': 'first_name',
        'name.familyName': 'last_name',
        title: 'public_metadata.title',
        'groups[displayName eq "Admins"]': 'org:admin',
      },
    })
    const dana = (await a.call('POST', '/Users', entraUser('dana', { title: 'CTO' }))).body.id
    expect((await bapi(h, 'GET', `/v1/users/${dana}`)).public_metadata).toEqual({ title: 'CTO' })
    expect(await roleOf(dana)).toBe('org:member')

    const g = await a.call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'admins',
      members: [{ value: dana }],
    })
    expect(g.status).toBe(201)
    expect(await roleOf(dana)).toBe('org:admin')
    expect(await eventTypes(h)).toContain('organizationMembership.updated')

    await a.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'remove', path: `members[value eq "${dana}"]` }),
    )
    expect(await roleOf(dana)).toBe('org:member')
    await a.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'add', path: 'members', value: [{ value: dana }] }),
    )
    expect(await roleOf(dana)).toBe('org:admin')
    await a.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'replace', path: 'displayName', value: 'Former Admins' }),
    )
    expect(await roleOf(dana)).toBe('org:member')
    await a.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'replace', path: 'displayName', value: 'Admins' }),
    )
    expect(await roleOf(dana)).toBe('org:admin')
    expect((await a.call('DELETE', `/Groups/${g.body.id}`)).status).toBe(204)
    expect(await roleOf(dana)).toBe('org:member')

    // A mapping change re-derives the roles of the directory's members.
    await a.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Leads', members: [{ value: dana }] })
    expect(await roleOf(dana)).toBe('org:member')
    await bapi(h, 'PUT', `/v1/organizations/${a.orgId}/scim/attribute-mappings`, {
      mapping: { 'groups[displayName eq "Leads"]': 'org:admin' },
    })
    expect(await roleOf(dana)).toBe('org:admin')
  })
})

describe('attributes the directory owns', () => {
  it('are refused on BAPI and FAPI (attribute_managed_by_scim); the rest stays editable', async () => {
    await bapi(h, 'PUT', `/v1/organizations/${a.orgId}/scim/attribute-mappings`, {
      mapping: { 'name.givenName': 'first_name', title: 'public_metadata.title' },
    })
    const eve = (await a.call('POST', '/Users', entraUser('eve', { title: 'CFO' }))).body.id
    const refused = await h.bapi('PATCH', `/v1/users/${eve}`, { first_name: 'Mallory' })
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as any).errors[0]).toMatchObject({
      code: 'attribute_managed_by_scim',
      meta: { param_name: 'first_name' },
    })
    const meta = await h.bapi('PATCH', `/v1/users/${eve}`, { public_metadata: { title: 'Intern' } })
    expect(meta.status).toBe(409)
    const merged = await h.bapi('PATCH', `/v1/users/${eve}/metadata`, { public_metadata: { title: null } })
    expect(merged.status).toBe(409)
    const mergedOther = await h.bapi('PATCH', `/v1/users/${eve}/metadata`, {
      public_metadata: { team: 'blue' },
    })
    expect(mergedOther.status).toBe(200)
    // The same value again, unmapped fields and other metadata keys are fine.
    const fine = await h.bapi('PATCH', `/v1/users/${eve}`, {
      first_name: 'eve',
      last_name: 'Anything',
      public_metadata: { title: 'CFO', plan: 'pro' },
    })
    expect(fine.status).toBe(200)
    expect(await fine.json()).toMatchObject({
      first_name: 'eve',
      last_name: 'Anything',
      public_metadata: { plan: 'pro' },
    })

    // The user themselves, on FAPI.
    const t = await bapi(h, 'POST', '/v1/sign-in-tokens', { user_id: eve })
    const b = browser(h)
    expect(
      (await b.json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t.token })).status,
    ).toBe(200)
    const me = await b.json('PATCH', '/v1/me', { first_name: 'Evil' })
    expect(me.status).toBe(409)
    expect(me.body.errors[0].code).toBe('attribute_managed_by_scim')
    const user = await bapi(h, 'GET', `/v1/users/${eve}`)
    const drop = await b.json('DELETE', `/v1/me/email-addresses/${user.email_addresses[0].id}`)
    expect(drop.status).toBe(409)
    expect(drop.body.errors[0]).toMatchObject({
      code: 'attribute_managed_by_scim',
      meta: { param_name: 'email_address' },
    })
    expect((await b.json('PATCH', '/v1/me', { last_name: 'Self-chosen' })).status).toBe(200)
    // Users no directory manages are untouched by all this.
    const plain = await bapi(h, 'POST', '/v1/users', {
      email_address: ['plain@example.com'],
      password: 'correct horse battery',
    })
    expect((await h.bapi('PATCH', `/v1/users/${plain.id}`, { first_name: 'Free' })).status).toBe(200)
    expect((await a.call('GET', `/Users/${plain.id}`)).status).toBe(404)
  })
})
