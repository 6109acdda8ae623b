import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { type Browser, browser, recordingDelivery } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

const delivery = recordingDelivery()
const PASSWORD = 'correct horse battery'
let h: Harness
let jwks: ReturnType<typeof createLocalJWKSet>
beforeAll(async () => {
  h = await createHarness({ delivery })
  expect((await h.bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })).status).toBe(200)
  jwks = createLocalJWKSet(await body(await h.request(`https://${h.env.host}/.well-known/jwks.json`)))
})
afterAll(() => h.close())

let seq = 0
const bapi = async (method: string, path: string, payload?: Record<string, unknown>) => {
  const res = await h.bapi(method, path, payload)
  const b = await body(res)
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(b)}`)
  return b
}

interface Person {
  b: Browser
  id: string
  email: string
  sid: string
}

/** A user signed in on their own browser. */
async function person(): Promise<Person> {
  const email = `fapi-user${++seq}@example.com`
  const u = await bapi('POST', '/v1/users', {
    email_address: [email],
    password: PASSWORD,
    first_name: `P${seq}`,
  })
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', {
    identifier: email,
    password: PASSWORD,
    strategy: 'password',
  })
  expect(si.status).toBe(200)
  return { b, id: u.id, email, sid: si.body.response.created_session_id }
}

/** An org created over BAPI with `admin` as its creator, plus members in the given roles. */
async function orgWith(admin: Person, members: Array<[Person, string]> = []) {
  const org = await bapi('POST', '/v1/organizations', { name: `Org ${++seq}`, created_by: admin.id })
  for (const [p, role] of members)
    await bapi('POST', `/v1/organizations/${org.id}/memberships`, { user_id: p.id, role })
  return org
}

const expectError = (r: { status: number; body: any }, status: number, code: string) => {
  expect(r.status).toBe(status)
  expect(r.body.errors[0].code).toBe(code)
}

async function claims(p: Person, payload?: Record<string, unknown>): Promise<JWTPayload> {
  const t = await p.b.json('POST', `/v1/client/sessions/${p.sid}/tokens`, payload)
  if (t.status !== 200) throw new Error(`${t.status} ${JSON.stringify(t.body)}`)
  return (await jwtVerify(t.body.jwt, jwks, { currentDate: new Date(h.clock.now()) })).payload
}

/** A role without org:sys_memberships:read (so it cannot list members). */
let outsiderRole = ''
beforeAll(async () => {
  outsiderRole = (await bapi('POST', '/v1/roles', { key: 'org:guest', name: 'Guest', permissions: [] })).key
})

describe('FAPI organizations: reads', () => {
  it('GET /v1/organizations/{id}: members only, without private metadata', async () => {
    const [admin, stranger] = [await person(), await person()]
    const org = await orgWith(admin)
    await bapi('PATCH', `/v1/organizations/${org.id}`, {
      private_metadata: { secret: 1 },
      public_metadata: { p: 1 },
    })
    const got = await admin.b.json('GET', `/v1/organizations/${org.id}`)
    expect(got.status).toBe(200)
    expect(got.body.response).toMatchObject({
      object: 'organization',
      id: org.id,
      members_count: 1,
      public_metadata: { p: 1 },
    })
    expect(got.body.response.private_metadata).toBeUndefined()
    expect(got.body.client.id).toMatch(/^client_/)
    expectError(await stranger.b.json('GET', `/v1/organizations/${org.id}`), 404, 'resource_not_found')
    expectError(
      await admin.b.json('GET', '/v1/organizations/org_01HZZZZZZZZZZZZZZZZZZZZZZZ'),
      404,
      'resource_not_found',
    )
    expectError(await browser(h).json('GET', `/v1/organizations/${org.id}`), 401, 'authentication_invalid')
  })

  it('GET /v1/organizations/{id}/memberships needs org:sys_memberships:read', async () => {
    const [admin, member, guest, stranger] = [await person(), await person(), await person(), await person()]
    const org = await orgWith(admin, [
      [member, 'org:member'],
      [guest, outsiderRole],
    ])
    const list = await member.b.json('GET', `/v1/organizations/${org.id}/memberships?limit=2`)
    expect(list.status).toBe(200)
    expect(list.body.response.data).toHaveLength(2)
    expect(list.body.response.data[0].private_metadata).toBeUndefined()
    expect(list.body.response.data[0].organization.private_metadata).toBeUndefined()
    const rest = await member.b.json(
      'GET',
      `/v1/organizations/${org.id}/memberships?cursor=${list.body.response.meta.next_cursor}`,
    )
    expect(rest.body.response.data.map((m: any) => m.public_user_data.user_id)).toEqual([admin.id])
    const denied = await guest.b.json('GET', `/v1/organizations/${org.id}/memberships`)
    expectError(denied, 403, 'authorization_invalid')
    expect(denied.body.errors[0].meta.permissions).toEqual(['org:sys_memberships:read'])
    expectError(
      await stranger.b.json('GET', `/v1/organizations/${org.id}/memberships`),
      404,
      'resource_not_found',
    )
  })

  it('GET /v1/me/organization-memberships lists the user’s own', async () => {
    const [admin, member] = [await person(), await person()]
    const a = await orgWith(admin, [[member, 'org:member']])
    const b = await orgWith(member)
    const mine = await member.b.json('GET', '/v1/me/organization-memberships?include_total_count=true')
    expect(mine.status).toBe(200)
    expect(mine.body.response.total_count).toBe(2)
    expect(mine.body.response.data.map((m: any) => [m.organization.id, m.role])).toEqual([
      [b.id, 'org:admin'],
      [a.id, 'org:member'],
    ])
    expectError(
      await browser(h).json('GET', '/v1/me/organization-memberships'),
      401,
      'authentication_invalid',
    )
  })
})

describe('FAPI organizations: writes', () => {
  it('POST /v1/organizations creates one with the user as admin, when the instance allows it', async () => {
    const p = await person()
    const created = await p.b.json('POST', '/v1/organizations', { name: 'Self Made', slug: 'self-made' })
    expect(created.status).toBe(200)
    expect(created.body.response).toMatchObject({ slug: 'self-made', members_count: 1, created_by: p.id })
    const mine = await p.b.json('GET', '/v1/me/organization-memberships')
    expect(mine.body.response.data[0]).toMatchObject({
      role: 'org:admin',
      organization: { id: created.body.response.id },
    })
    await bapi('PATCH', '/v1/instance', { organizations: { users_can_create: false } })
    expectError(
      await p.b.json('POST', '/v1/organizations', { name: 'Nope' }),
      403,
      'user_create_organization_not_enabled',
    )
    await bapi('PATCH', '/v1/instance', { organizations: { users_can_create: true } })
    expectError(
      await browser(h).json('POST', '/v1/organizations', { name: 'Anon' }),
      401,
      'authentication_invalid',
    )
  })

  it('POST /v1/organizations/{id}/invitations needs org:sys_memberships:manage', async () => {
    const [admin, member, stranger] = [await person(), await person(), await person()]
    const org = await orgWith(admin, [[member, 'org:member']])
    const inv = await admin.b.json('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'friend@example.com',
      role: 'org:member',
    })
    expect(inv.status).toBe(200)
    expect(inv.body.response).toMatchObject({
      object: 'organization_invitation',
      email_address: 'friend@example.com',
      inviter_user_id: admin.id,
      status: 'pending',
      url: null,
      public_organization_data: { id: org.id, name: org.name },
    })
    expect(inv.body.response.private_metadata).toBeUndefined()
    await h.settle()
    expect(delivery.lastLink('friend@example.com')).toContain('/v1/tickets/accept?ticket=oinv_')
    const elsewhere = await admin.b.json('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'redirected@example.com',
      redirect_url: 'https://evil.example/steal',
    })
    expectError(elsewhere, 422, 'invalid_redirect_url')
    const denied = await member.b.json('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'x@example.com',
    })
    expectError(denied, 403, 'authorization_invalid')
    expect(denied.body.errors[0].meta.permissions).toEqual(['org:sys_memberships:manage'])
    expectError(
      await stranger.b.json('POST', `/v1/organizations/${org.id}/invitations`, {
        email_address: 'y@example.com',
      }),
      404,
      'resource_not_found',
    )
  })

  it('POST /v1/organizations/{id}/leave: members leave, the last manager stays', async () => {
    const [admin, member, stranger] = [await person(), await person(), await person()]
    const org = await orgWith(admin, [[member, 'org:member']])
    const left = await member.b.json('POST', `/v1/organizations/${org.id}/leave`)
    expect(left.status).toBe(200)
    expect(left.body.response).toMatchObject({ object: 'organization_membership', deleted: true })
    expectError(await member.b.json('GET', `/v1/organizations/${org.id}`), 404, 'resource_not_found')
    expectError(
      await admin.b.json('POST', `/v1/organizations/${org.id}/leave`),
      400,
      'organization_minimum_permissions_needed',
    )
    expectError(await stranger.b.json('POST', `/v1/organizations/${org.id}/leave`), 404, 'resource_not_found')
  })
})

describe('FAPI invitations for the signed-in user', () => {
  it('lists pending invitations to verified addresses and accepts them', async () => {
    const [admin, invitee, other] = [await person(), await person(), await person()]
    const org = await orgWith(admin)
    const role = await bapi('POST', '/v1/roles', {
      key: 'org:editor',
      name: 'Editor',
      permissions: ['org:sys_memberships:read'],
    })
    const inv = await bapi('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: invitee.email,
      role: role.key,
      public_metadata: { from: 'invite' },
      notify: false,
    })
    const list = await invitee.b.json('GET', '/v1/me/organization-invitations')
    expect(list.status).toBe(200)
    expect(list.body.response.data.map((i: any) => [i.id, i.role, i.public_organization_data.id])).toEqual([
      [inv.id, 'org:editor', org.id],
    ])
    expect((await other.b.json('GET', '/v1/me/organization-invitations')).body.response.data).toEqual([])
    expectError(
      await other.b.json('POST', `/v1/me/organization-invitations/${inv.id}/accept`),
      404,
      'resource_not_found',
    )

    const accepted = await invitee.b.json('POST', `/v1/me/organization-invitations/${inv.id}/accept`)
    expect(accepted.status).toBe(200)
    expect(accepted.body.response.status).toBe('accepted')
    const mine = await invitee.b.json('GET', '/v1/me/organization-memberships')
    expect(mine.body.response.data[0]).toMatchObject({
      role: 'org:editor',
      public_metadata: { from: 'invite' },
      organization: { id: org.id },
    })
    expect((await invitee.b.json('GET', '/v1/me/organization-invitations')).body.response.data).toEqual([])
    expectError(
      await invitee.b.json('POST', `/v1/me/organization-invitations/${inv.id}/accept`),
      400,
      'organization_invitation_already_accepted',
    )
    const events = await bapi('GET', '/v1/events?type=organizationInvitation.accepted')
    expect(events.data[0].data).toMatchObject({ id: inv.id, user_id: invitee.id, status: 'accepted' })
  })

  it('an invitee without an account signs up with the ticket and lands as a member', async () => {
    const admin = await person()
    const org = await orgWith(admin)
    // A stored redirect_url must be one of the app's URLs.
    await bapi('PATCH', '/v1/instance', { allowed_origins: ['https://app.example.com'] })
    const inv = await bapi('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'newcomer@example.com',
      role: 'org:admin',
      redirect_url: 'https://app.example.com/join',
    })
    await h.settle()
    const link = delivery.lastLink('newcomer@example.com')
    expect(link).toBe(inv.url)
    const b = browser(h)
    const landing = await b.call('GET', new URL(link).pathname + new URL(link).search)
    expect(landing.status).toBe(303)
    const to = new URL(landing.headers.get('location')!)
    expect(to.origin + to.pathname).toBe('https://app.example.com/join')
    expect(to.searchParams.get('__authn_status')).toBe('sign_up')
    const ticket = to.searchParams.get('__authn_ticket')!

    const su = await b.json('POST', '/v1/client/sign-ups', { strategy: 'ticket', ticket, password: PASSWORD })
    expect(su.status).toBe(200)
    expect(su.body.response).toMatchObject({ status: 'complete', email_address: 'newcomer@example.com' })
    const mine = await b.json('GET', '/v1/me/organization-memberships')
    expect(mine.body.response.data.map((m: any) => [m.organization.id, m.role])).toEqual([
      [org.id, 'org:admin'],
    ])
    expect((await bapi('GET', `/v1/organizations/${org.id}/invitations`)).data[0].status).toBe('accepted')
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ups', {
        strategy: 'ticket',
        ticket,
        password: PASSWORD,
      }),
      400,
      'organization_invitation_already_accepted',
    )
  })

  it('an invitee with an account signs in with the ticket and joins', async () => {
    const [admin, existing] = [await person(), await person()]
    await bapi('PATCH', '/v1/instance', { redirect_urls: ['https://app.example.com/sign-in'] })
    const org = await orgWith(admin)
    const inv = await bapi('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: existing.email,
    })
    const ticket = new URL(inv.url).searchParams.get('ticket')!
    const landing = await browser(h).call('GET', `/v1/tickets/accept?ticket=${encodeURIComponent(ticket)}`)
    expect(new URL(landing.headers.get('location')!).searchParams.get('__authn_status')).toBe('sign_in')
    const b = browser(h)
    const si = await b.json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket })
    expect(si.status).toBe(200)
    expect(si.body.response.status).toBe('complete')
    const mine = await b.json('GET', '/v1/me/organization-memberships')
    expect(mine.body.response.data.map((m: any) => [m.organization.id, m.role])).toEqual([
      [org.id, 'org:member'],
    ])
  })
})

describe('active organization and the session token', () => {
  it('carries {id, slg, rol, per} for the active org, switches, and drops it after removal', async () => {
    const [admin, member] = [await person(), await person()]
    await bapi('POST', '/v1/permissions', { key: 'org:invoices:read', name: 'Read invoices' })
    await bapi('POST', '/v1/permissions', { key: 'org:invoices:pay', name: 'Pay invoices' })
    await bapi('POST', '/v1/roles', {
      key: 'org:billing',
      name: 'Billing',
      permissions: ['org:invoices:read', 'org:invoices:pay', 'org:sys_memberships:read'],
    })
    const acme = await orgWith(admin, [[member, 'org:billing']])
    const globex = await orgWith(admin, [[member, 'org:member']])

    expect((await claims(member)).o).toBeUndefined()
    const set = await member.b.json('PATCH', `/v1/client/sessions/${member.sid}/active-organization`, {
      organization_id: acme.id,
    })
    expect(set.status).toBe(200)
    expect(set.body.response).toMatchObject({ id: member.sid, last_active_organization_id: acme.id })
    const first = await claims(member)
    expect(first.o).toEqual({
      id: acme.id,
      slg: acme.slug,
      rol: 'billing',
      per: 'invoices:pay,invoices:read',
    })
    expect(Object.keys(first).sort()).toEqual([
      'exp',
      'fva',
      'iat',
      'iss',
      'jti',
      'nbf',
      'o',
      'sid',
      'sub',
      'v',
    ])

    // The token request switches: an org, the personal account (""), or keeps it (no body).
    expect((await claims(member, { organization_id: globex.id })).o).toEqual({
      id: globex.id,
      slg: globex.slug,
      rol: 'member',
      per: '',
    })
    expect((await claims(member)).o).toMatchObject({ id: globex.id })
    expect((await claims(member, { organization_id: '' })).o).toBeUndefined()
    expect((await claims(member)).o).toBeUndefined()
    expect((await claims(member, { organization_id: acme.id })).o).toMatchObject({
      id: acme.id,
      rol: 'billing',
    })
    const notMine = await member.b.json('POST', `/v1/client/sessions/${member.sid}/tokens`, {
      organization_id: 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ',
    })
    expectError(notMine, 404, 'resource_not_found')
    // Form bodies work too (clerk-js sends them).
    const form = await member.b.call(
      'POST',
      `/v1/client/sessions/${member.sid}/tokens`,
      `organization_id=${globex.id}`,
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    )
    const formClaims = (
      await jwtVerify((await body(form)).jwt, jwks, { currentDate: new Date(h.clock.now()) })
    ).payload
    expect(formClaims.o).toMatchObject({ id: globex.id })
    await claims(member, { organization_id: acme.id })

    // A role's new permissions and an org's new slug show in the next token.
    const billing = (await bapi('GET', '/v1/roles?limit=100')).data.find((r: any) => r.key === 'org:billing')
    await h.bapi('PUT', `/v1/roles/${billing.id}/permissions`, { permissions: ['org:invoices:read'] })
    await bapi('PATCH', `/v1/organizations/${acme.id}`, { slug: 'acme-renamed' })
    expect((await claims(member)).o).toEqual({
      id: acme.id,
      slg: 'acme-renamed',
      rol: 'billing',
      per: 'invoices:read',
    })

    // Removal: the next mint has no `o`, and the session forgets the org.
    const m = (await bapi('GET', `/v1/organizations/${acme.id}/memberships?role=org:billing`)).data[0]
    await bapi('DELETE', `/v1/organizations/${acme.id}/memberships/${m.id}`)
    expect((await claims(member)).o).toBeUndefined()
    const s = await member.b.json('GET', `/v1/client/sessions/${member.sid}`)
    expect(s.body.response.last_active_organization_id).toBeNull()
  })

  it('PATCH /v1/client/sessions/{sid}/active-organization: members only; null clears', async () => {
    const [admin, stranger] = [await person(), await person()]
    const org = await orgWith(admin)
    expectError(
      await stranger.b.json('PATCH', `/v1/client/sessions/${stranger.sid}/active-organization`, {
        organization_id: org.id,
      }),
      404,
      'resource_not_found',
    )
    expectError(
      await stranger.b.json('PATCH', `/v1/client/sessions/${admin.sid}/active-organization`, {
        organization_id: org.id,
      }),
      404,
      'resource_not_found',
    )
    await admin.b.json('PATCH', `/v1/client/sessions/${admin.sid}/active-organization`, {
      organization_id: org.id,
    })
    const cleared = await admin.b.json('PATCH', `/v1/client/sessions/${admin.sid}/active-organization`, {
      organization_id: null,
    })
    expect(cleared.body.response.last_active_organization_id).toBeNull()
  })

  it('JWT templates see the active organization', async () => {
    const admin = await person()
    const org = await orgWith(admin)
    await bapi('POST', '/v1/jwt-templates', {
      name: 'orgtpl',
      claims: { org: '{{org.slug}}', role: '{{org.role}}' },
    })
    await claims(admin, { organization_id: org.id })
    const t = await admin.b.json('POST', `/v1/client/sessions/${admin.sid}/tokens/orgtpl`)
    const { payload } = await jwtVerify(t.body.jwt, jwks, { currentDate: new Date(h.clock.now()) })
    expect(payload).toMatchObject({ org: org.slug, role: 'org:admin' })
  })
})

describe('organizations disabled', () => {
  it('refuses FAPI organization routes', async () => {
    const p = await person()
    await bapi('PATCH', '/v1/instance', { organizations: { enabled: false } })
    try {
      expectError(
        await p.b.json('POST', '/v1/organizations', { name: 'Off' }),
        403,
        'organization_not_enabled_in_instance',
      )
      expectError(
        await p.b.json('GET', '/v1/organizations/org_01HZZZZZZZZZZZZZZZZZZZZZZZ'),
        403,
        'organization_not_enabled_in_instance',
      )
    } finally {
      await bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })
    }
  })
})
