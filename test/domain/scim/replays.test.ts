import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Harness } from '../../helpers/harness'
import {
  bapi,
  ENTERPRISE,
  ERROR,
  entraUser,
  eventTypes,
  expectScimError,
  filter,
  GROUP,
  idp,
  LIST,
  PATCH_OP,
  scimHarness,
  signInAs,
  USER,
} from './support'

/**
 * The request sequences Entra ID and Okta send (reference/scim.md §10–11), replayed against the
 * running server with their payloads as those IdPs document them, every answer asserted.
 */

let h: Harness
beforeAll(async () => {
  h = await scimHarness()
})
afterAll(() => h.close())

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations })

describe('Microsoft Entra ID provisioning', () => {
  it('tests the connection, creates, updates, disables and deletes a user', async () => {
    const entra = await idp(h)
    // 1. Test connection: random values, an empty answer (never 404 or 500).
    const probe = await entra.call(
      'GET',
      `/Users?${filter('userName eq "2b3c1e0f-5f43-4a43-8c5b-2ddc3a7a0c11"')}`,
    )
    expect(probe.status).toBe(200)
    expect(probe.headers.get('content-type')).toBe('application/scim+json')
    expect(probe.body).toEqual({
      schemas: [LIST],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    })
    const groupProbe = await entra.call(
      'GET',
      `/Groups?excludedAttributes=members&${filter('displayName eq "7d6a2c4e-0b1f-4c55-9e51-6a1d0c3b2e99"')}`,
    )
    expect(groupProbe.body.totalResults).toBe(0)

    // 2. Create: match on userName first, then POST.
    const before = await entra.call('GET', `/Users?${filter('userName eq "alice@contoso.example"')}`)
    expect(before.body.totalResults).toBe(0)
    const created = await entra.call('POST', '/Users', entraUser('alice'))
    expect(created.status).toBe(201)
    const id = created.body.id
    expect(created.headers.get('location')).toBe(`https://${h.env.host}/scim/v2/Users/${id}`)
    expect(created.headers.get('etag')).toBe('W/"1"')
    expect(created.body).toEqual({
      schemas: [USER],
      id,
      externalId: 'alice-ext',
      userName: 'alice@contoso.example',
      emails: [{ primary: true, type: 'work', value: 'alice@contoso.example' }],
      name: { formatted: 'alice Smith', familyName: 'Smith', givenName: 'alice' },
      active: true,
      meta: {
        resourceType: 'User',
        created: new Date(h.clock.now()).toISOString(),
        lastModified: new Date(h.clock.now()).toISOString(),
        location: `https://${h.env.host}/scim/v2/Users/${id}`,
        version: 'W/"1"',
      },
    })
    // The user exists here, verified by the directory, and is a member of the token's organization.
    const user = await bapi(h, 'GET', `/v1/users/${id}`)
    expect(user).toMatchObject({ first_name: 'alice', last_name: 'Smith', banned: false })
    expect(user.email_addresses).toMatchObject([
      { email_address: 'alice@contoso.example', verification: { status: 'verified' } },
    ])
    const members = await bapi(h, 'GET', `/v1/organizations/${entra.orgId}/memberships`)
    expect(members.data.map((m: any) => [m.public_user_data.user_id, m.role])).toEqual([[id, 'org:member']])
    // A matching attribute of Entra's choice (externalId) finds them too.
    expect(
      (await entra.call('GET', `/Users?${filter('externalId eq "alice-ext"')}`)).body.Resources[0].id,
    ).toBe(id)

    // 3. Update, Entra's default shape: capitalised ops, the work email by value path.
    h.clock.advance(60_000)
    const updated = await entra.call(
      'PATCH',
      `/Users/${id}`,
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice.jones@contoso.example' },
        { op: 'Replace', path: 'name.familyName', value: 'Jones' },
        { op: 'Replace', path: 'userName', value: 'alice.jones@contoso.example' },
      ),
    )
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({
      userName: 'alice.jones@contoso.example',
      emails: [{ primary: true, type: 'work', value: 'alice.jones@contoso.example' }],
      name: { familyName: 'Jones', givenName: 'alice' },
      meta: { version: 'W/"2"', lastModified: new Date(h.clock.now()).toISOString() },
    })
    const renamed = await bapi(h, 'GET', `/v1/users/${id}`)
    expect(renamed.last_name).toBe('Jones')
    expect(renamed.email_addresses.map((e: any) => e.email_address)).toEqual(['alice.jones@contoso.example'])

    // …and with the aadOptscim062020 flag: one path-less replace with dotted and URN keys.
    const flagged = await entra.call(
      'PATCH',
      `/Users/${id}`,
      patch({
        op: 'replace',
        value: {
          displayName: 'Alice Jones',
          'name.givenName': 'Alice',
          'name.familyName': 'Jones-Smith',
          [`${ENTERPRISE}:employeeNumber`]: '4711',
        },
      }),
    )
    expect(flagged.status).toBe(200)
    expect(flagged.body).toMatchObject({
      schemas: [USER, ENTERPRISE],
      displayName: 'Alice Jones',
      name: { givenName: 'Alice', familyName: 'Jones-Smith', formatted: 'alice Smith' },
      [ENTERPRISE]: { employeeNumber: '4711' },
    })
    // The colon form of the enterprise extension (Entra's department mapping).
    const dept = await entra.call(
      'PATCH',
      `/Users/${id}`,
      patch({ op: 'Add', path: `${ENTERPRISE}:department`, value: 'Sales' }),
    )
    expect(dept.body[ENTERPRISE]).toEqual({ employeeNumber: '4711', department: 'Sales' })

    // 4. Disable: "False" as a string. The user is banned and signed out, and still returned.
    const sid = await signInAs(h, id)
    const disabled = await entra.call(
      'PATCH',
      `/Users/${id}`,
      patch({ op: 'Replace', path: 'active', value: 'False' }),
    )
    expect(disabled.status).toBe(200)
    expect(disabled.body.active).toBe(false)
    expect((await entra.call('GET', `/Users/${id}`)).body.active).toBe(false)
    const byFilter = await entra.call('GET', `/Users?${filter('userName eq "alice.jones@contoso.example"')}`)
    expect(byFilter.body.Resources.map((u: any) => [u.id, u.active])).toEqual([[id, false]])
    expect((await bapi(h, 'GET', `/v1/users/${id}`)).banned).toBe(true)
    expect((await bapi(h, 'GET', `/v1/sessions/${sid}`)).status).toBe('revoked')
    const types = await eventTypes(h)
    expect(types).toContain('scimUser.deprovisioned')
    expect(types).toContain('session.revoked')
    // The flag's boolean form re-enables.
    const enabled = await entra.call(
      'PATCH',
      `/Users/${id}`,
      patch({ op: 'replace', path: 'active', value: true }),
    )
    expect(enabled.body.active).toBe(true)
    expect((await bapi(h, 'GET', `/v1/users/${id}`)).banned).toBe(false)

    // 5. Delete: 204, then 404 here and gone from the users.
    const deleted = await entra.call('DELETE', `/Users/${id}`)
    expect(deleted.status).toBe(204)
    expect(deleted.body).toBeNull()
    expectScimError(await entra.call('GET', `/Users/${id}`), 404)
    expect((await h.bapi('GET', `/v1/users/${id}`)).status).toBe(404)
    expect(await eventTypes(h)).toContain('user.deleted')
  })

  it('creates a group empty, adds and removes members (only those named), renames and deletes it', async () => {
    const entra = await idp(h)
    const ann = (await entra.call('POST', '/Users', entraUser('ann'))).body.id
    const bob = (await entra.call('POST', '/Users', entraUser('bob'))).body.id
    const created = await entra.call('POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Sales',
      meta: { resourceType: 'Group' },
      members: [],
    })
    expect(created.status).toBe(201)
    const gid = created.body.id
    expect(created.body).toMatchObject({
      schemas: [GROUP],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Sales',
      members: [],
      meta: { resourceType: 'Group', location: `https://${h.env.host}/scim/v2/Groups/${gid}` },
    })
    const found = await entra.call(
      'GET',
      `/Groups?excludedAttributes=members&${filter('displayName eq "sales"')}`,
    )
    expect(found.body.totalResults).toBe(1)
    expect(found.body.Resources[0].members).toBeUndefined()

    const added = await entra.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({
        op: 'Add',
        path: 'members',
        value: [
          { $ref: null, value: ann },
          { $ref: null, value: bob },
        ],
      }),
    )
    expect(added.status).toBe(204)
    const check = await entra.call(
      'GET',
      `/Groups?excludedAttributes=members&${filter(`id eq "${gid}" and members[value eq "${bob}"]`)}`,
    )
    expect(check.body.totalResults).toBe(1)
    // Entra's default removal names the members to remove in the value: only Bob goes.
    const removed = await entra.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'Remove', path: 'members', value: [{ value: bob }] }),
    )
    expect(removed.status).toBe(204)
    const group = await entra.call('GET', `/Groups/${gid}`)
    expect(group.body.members.map((m: any) => m.value)).toEqual([ann])
    expect(group.body.members[0]).toEqual({
      value: ann,
      $ref: `https://${h.env.host}/scim/v2/Users/${ann}`,
      display: 'ann@contoso.example',
      type: 'User',
    })
    // The user shows the group (read-only, derived).
    expect((await entra.call('GET', `/Users/${ann}`)).body.groups).toEqual([
      { value: gid, $ref: `https://${h.env.host}/scim/v2/Groups/${gid}`, display: 'Sales', type: 'direct' },
    ])
    // The flag's form: a filtered remove.
    await entra.call('PATCH', `/Groups/${gid}`, patch({ op: 'remove', path: `members[value eq "${ann}"]` }))
    expect((await entra.call('GET', `/Groups/${gid}`)).body.members).toEqual([])
    // Removing members who are not (or no longer) there is done already, in both forms.
    for (const op of [
      { op: 'Remove', path: 'members', value: [{ value: bob }] },
      { op: 'remove', path: `members[value eq "${ann}"]` },
    ])
      expect((await entra.call('PATCH', `/Groups/${gid}`, patch(op))).status).toBe(204)
    const renamed = await entra.call(
      'PATCH',
      `/Groups/${gid}`,
      patch({ op: 'Replace', path: 'displayName', value: 'Sales EU' }),
    )
    expect(renamed.status).toBe(204)
    expect((await entra.call('GET', `/Groups/${gid}`)).body.displayName).toBe('Sales EU')
    expect((await entra.call('DELETE', `/Groups/${gid}`)).status).toBe(204)
    expectScimError(await entra.call('GET', `/Groups/${gid}`), 404)
    const types = await eventTypes(h)
    for (const t of ['scimGroup.created', 'scimGroup.updated', 'scimGroup.deleted'])
      expect(types).toContain(t)
  })
})

describe('Okta provisioning', () => {
  it('passes the Okta SCIM 2.0 SPEC test steps', async () => {
    const okta = await idp(h)
    // Seed one complete user first (the SPEC test reads one).
    await okta.call('POST', '/Users', entraUser('seed'))
    const first = await okta.call('GET', '/Users?count=1&startIndex=1')
    expect(first.status).toBe(200)
    expect(first.body.schemas).toEqual([LIST])
    for (const k of ['itemsPerPage', 'startIndex', 'totalResults'])
      expect(typeof first.body[k]).toBe('number')
    expect(first.body.Resources).toHaveLength(1)
    const u = first.body.Resources[0]
    for (const v of [u.id, u.name.familyName, u.name.givenName, u.userName, u.emails[0].value])
      expect(typeof v).toBe('string')
    expect(typeof u.active).toBe('boolean')
    const one = await okta.call('GET', `/Users/${u.id}`)
    expect(one.status).toBe(200)
    expect(one.body.id).toBe(u.id)

    for (const f of [
      'userName eq "invalidUser-8f2e@example.com"',
      'emails.value eq "random-31337@example.com"',
    ]) {
      const none = await okta.call('GET', `/Users?${filter(f)}`)
      expect(none.status).toBe(200)
      expect(none.body.totalResults).toBe(0)
    }
    const unknown = await okta.call('GET', '/Users/010101001010101010')
    expectScimError(unknown, 404)

    // Create with application/json, as the SPEC test does.
    const payload = {
      schemas: [USER],
      userName: 'Runscope.Tester@atko.example',
      name: { givenName: 'Runscope', familyName: 'Tester' },
      emails: [{ primary: true, value: 'Runscope.Tester@atko.example', type: 'work' }],
      displayName: 'Runscope Tester',
      locale: 'en-US',
      externalId: '00u1dhhb1fkIGP7RL1d8',
      groups: [],
      password: '1mz050nq',
      active: true,
    }
    const created = await okta.call('POST', '/Users', payload, { 'content-type': 'application/json' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      active: true,
      userName: payload.userName,
      name: payload.name,
      displayName: 'Runscope Tester',
      locale: 'en-US',
    })
    expect(created.body.schemas).toContain(USER)
    expect(created.body.password).toBeUndefined()
    expect(created.body.groups).toBeUndefined()
    const again = await okta.call('GET', `/Users/${created.body.id}`)
    expect(again.body).toEqual(created.body)
    // Recreating is a 409.
    expectScimError(
      await okta.call('POST', '/Users', payload, { 'content-type': 'application/json' }),
      409,
      'uniqueness',
    )
    // Username case sensitivity check.
    const upper = await okta.call(
      'GET',
      `/Users?${filter(`userName eq "${payload.userName.toUpperCase()}"`)}`,
    )
    expect(upper.status).toBe(200)
    expect(upper.body.Resources.map((r: any) => r.id)).toEqual([created.body.id])
    const started = performance.now()
    expect((await okta.call('GET', '/Groups')).status).toBe(200)
    expect(performance.now() - started).toBeLessThan(600)
    // A bad token.
    const bad = await h.request(`https://${h.env.host}/scim/v2/Users`, {
      headers: { authorization: 'Bearer scim_not-a-real-token' },
    })
    expect(bad.status).toBe(401)
    const badBody: any = await bad.json()
    expect(badBody).toMatchObject({ schemas: [ERROR], status: '401' })
    expect(badBody.detail).toBeTruthy()
    expectScimError(await okta.call('GET', '/Users/00919288221112222'), 404)
  })

  it('deactivates and reactivates with path-less replaces, updates by PUT, pushes groups', async () => {
    const okta = await idp(h)
    const made = await okta.call('POST', '/Users', entraUser('okta'))
    const id = made.body.id
    const off = await okta.call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))
    expect(off.body.active).toBe(false)
    expect((await bapi(h, 'GET', `/v1/users/${id}`)).banned).toBe(true)
    const on = await okta.call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: true } }))
    expect(on.body.active).toBe(true)
    expect((await bapi(h, 'GET', `/v1/users/${id}`)).banned).toBe(false)

    // AIW apps update by PUT; a PUT without `active` keeps the user active.
    const { active: _drop, ...withoutActive } = entraUser('okta', {
      name: { givenName: 'Otto', familyName: 'Kta' },
      title: 'Engineer',
    })
    const put = await okta.call('PUT', `/Users/${id}`, withoutActive)
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({
      active: true,
      title: 'Engineer',
      name: { givenName: 'Otto', familyName: 'Kta' },
    })
    expect(put.body.name.formatted).toBeUndefined()
    expect((await bapi(h, 'GET', `/v1/users/${id}`)).first_name).toBe('Otto')
    // Deactivation by PUT.
    const putOff = await okta.call('PUT', `/Users/${id}`, { ...withoutActive, active: false })
    expect(putOff.body.active).toBe(false)

    // Push groups.
    const g = await okta.call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [],
    })
    expect(g.status).toBe(201)
    const add = await okta.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'add', path: 'members', value: [{ value: id, display: 'okta@contoso.example' }] }),
    )
    expect(add.status).toBe(204)
    const rename = await okta.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'replace', value: { id: g.body.id, displayName: 'Engineering Team' } }),
    )
    expect(rename.status).toBe(204)
    const byName = await okta.call('GET', `/Groups?${filter('displayName eq "Engineering Team"')}`)
    expect(
      byName.body.Resources.map((r: any) => [r.displayName, r.members.map((m: any) => m.value)]),
    ).toEqual([['Engineering Team', [id]]])
    await okta.call(
      'PATCH',
      `/Groups/${g.body.id}`,
      patch({ op: 'remove', path: `members[value eq "${id}"]` }),
    )
    expect((await okta.call('GET', `/Groups/${g.body.id}`)).body.members).toEqual([])
    expect((await okta.call('DELETE', `/Groups/${g.body.id}`)).status).toBe(204)
  })
})
