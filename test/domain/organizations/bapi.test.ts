import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { recordingDelivery } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

const delivery = recordingDelivery()
let h: Harness
beforeAll(async () => {
  h = await createHarness({ delivery })
})
afterAll(() => h.close())

let seq = 0
async function user(extra: Record<string, unknown> = {}) {
  const res = await h.bapi('POST', '/v1/users', {
    email_address: [`org-user${++seq}@example.com`],
    password: 'correct horse battery',
    first_name: `User${seq}`,
    ...extra,
  })
  expect(res.status).toBe(200)
  return body(res)
}
const call = async (method: string, path: string, payload?: Record<string, unknown> | unknown[]) => {
  const res = await h.bapi(method, path, payload)
  return { status: res.status, body: await body(res) }
}
const ok = async (method: string, path: string, payload?: Record<string, unknown> | unknown[]) => {
  const r = await call(method, path, payload)
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const events = async (type: string) => (await ok('GET', `/v1/events?type=${type}&limit=100`)).data

describe('organizations off', () => {
  it('refuses organization routes until the instance enables them; roles work meanwhile', async () => {
    const r = await call('GET', '/v1/organizations')
    expect(r.status).toBe(403)
    expect(r.body.errors[0].code).toBe('organization_not_enabled_in_instance')
    const roles = await ok('GET', '/v1/roles')
    expect(roles.data.map((x: any) => x.key)).toEqual(['org:admin', 'org:member'])
    const inst = await ok('PATCH', '/v1/instance', { organizations: { enabled: true } })
    expect(inst.organizations).toEqual({
      enabled: true,
      max_allowed_memberships: 5,
      creator_role: 'org:admin',
      default_role: 'org:member',
      domains_enabled: false,
      users_can_create: true,
    })
  })
})

describe('/v1/organizations', () => {
  it('creates with the creator as admin, reads by id and slug, updates and lists', async () => {
    const creator = await user()
    const org = await ok('POST', '/v1/organizations', {
      name: 'Acme Corp',
      created_by: creator.id,
      public_metadata: { tier: 'gold' },
      private_metadata: { crm: 42 },
    })
    expect(org).toMatchObject({
      object: 'organization',
      name: 'Acme Corp',
      slug: 'acme-corp',
      members_count: 1,
      pending_invitations_count: 0,
      max_allowed_memberships: 5,
      public_metadata: { tier: 'gold' },
      private_metadata: { crm: 42 },
      created_by: creator.id,
      created_at: h.clock.now(),
    })
    expect(org.id).toMatch(/^org_[0-9A-HJKMNP-TV-Z]{26}$/)
    const members = await ok('GET', `/v1/organizations/${org.id}/memberships`)
    expect(members.data).toHaveLength(1)
    expect(members.data[0]).toMatchObject({
      object: 'organization_membership',
      role: 'org:admin',
      role_name: 'Admin',
      public_user_data: { user_id: creator.id, identifier: creator.email_addresses[0].email_address },
      organization: { id: org.id, members_count: 1 },
    })
    expect(members.data[0].permissions).toContain('org:sys_memberships:manage')

    expect((await ok('GET', '/v1/organizations/acme-corp')).id).toBe(org.id)
    expect((await ok('GET', `/v1/organizations/${org.id}`)).slug).toBe('acme-corp')
    const missing = await call('GET', '/v1/organizations/org_01HZZZZZZZZZZZZZZZZZZZZZZZ')
    expect(missing.status).toBe(404)
    expect(missing.body.errors[0].code).toBe('resource_not_found')

    // The same name again gets a suffixed slug; an explicit taken slug is refused.
    const twin = await ok('POST', '/v1/organizations', { name: 'Acme Corp' })
    expect(twin.slug).toMatch(/^acme-corp-[a-z0-9]+$/)
    expect(twin.members_count).toBe(0)
    const taken = await call('POST', '/v1/organizations', { name: 'X', slug: 'acme-corp' })
    expect(taken.status).toBe(422)
    expect(taken.body.errors[0]).toMatchObject({
      code: 'form_identifier_exists',
      meta: { param_name: 'slug' },
    })
    expect((await call('POST', '/v1/organizations', { name: 'X', slug: 'Bad Slug!' })).status).toBe(422)
    expect((await call('POST', '/v1/organizations', { name: 'X', created_by: 'user_nope' })).status).toBe(422)

    const updated = await ok('PATCH', `/v1/organizations/${org.id}`, {
      name: 'Acme Inc',
      slug: 'acme',
      max_allowed_memberships: 10,
      private_metadata: { crm: 43 },
    })
    expect(updated).toMatchObject({
      name: 'Acme Inc',
      slug: 'acme',
      max_allowed_memberships: 10,
      private_metadata: { crm: 43 },
    })
    expect((await call('PATCH', `/v1/organizations/${twin.id}`, { slug: 'acme' })).status).toBe(422)

    const list = await ok('GET', '/v1/organizations?limit=1&include_total_count=true')
    expect(list.total_count).toBe(2)
    expect(list.data[0].id).toBe(twin.id)
    const next = await ok('GET', `/v1/organizations?limit=1&cursor=${list.meta.next_cursor}`)
    expect(next.data[0].id).toBe(org.id)
    expect(next.meta.next_cursor).toBeNull()
    expect((await ok('GET', '/v1/organizations?query=inc')).data.map((o: any) => o.id)).toEqual([org.id])
    expect((await call('GET', '/v1/organizations?cursor=garbage')).status).toBe(400)

    expect((await events('organization.created')).map((e: any) => e.data.id)).toEqual([twin.id, org.id])
    expect((await events('organization.updated'))[0].data).toMatchObject({ id: org.id, slug: 'acme' })
    expect((await events('organizationMembership.created')).at(-1).data).toMatchObject({
      role: 'org:admin',
      public_user_data: { user_id: creator.id },
    })
  })

  it('deletes an organization with its memberships and invitations', async () => {
    const creator = await user()
    const org = await ok('POST', '/v1/organizations', { name: 'Doomed', created_by: creator.id })
    await ok('POST', `/v1/organizations/${org.id}/invitations`, { email_address: 'gone@example.com' })
    expect(await ok('DELETE', `/v1/organizations/${org.id}`)).toEqual({
      object: 'organization',
      id: org.id,
      slug: 'doomed',
      deleted: true,
    })
    expect((await call('GET', `/v1/organizations/${org.id}`)).status).toBe(404)
    expect((await call('GET', `/v1/organizations/${org.id}/memberships`)).status).toBe(404)
    expect(
      h.ctx((ctx) =>
        ctx.client
          .query('select count(*) as n from organization_memberships m where m.organization_id = ?')
          .get(org.id),
      ),
    ).toEqual({ n: 0 })
    expect((await events('organization.deleted'))[0].data).toMatchObject({ id: org.id, deleted: true })
    expect((await call('DELETE', `/v1/organizations/${org.id}`)).status).toBe(404)
  })
})

describe('/v1/organizations/{id}/memberships', () => {
  it('adds, changes roles, removes, and keeps one member who manages members', async () => {
    const [admin, bob, carol] = [await user(), await user(), await user()]
    const org = await ok('POST', '/v1/organizations', { name: 'Members Ltd', created_by: admin.id })
    const adminMembership = (await ok('GET', `/v1/organizations/${org.id}/memberships`)).data[0]
    const bobM = await ok('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: bob.id,
      role: 'org:member',
      public_metadata: { team: 'red' },
    })
    expect(bobM).toMatchObject({
      role: 'org:member',
      permissions: ['org:sys_memberships:read'],
      public_metadata: { team: 'red' },
      private_metadata: {},
      organization: { members_count: 2 },
    })
    const again = await call('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: bob.id,
      role: 'org:member',
    })
    expect(again.status).toBe(400)
    expect(again.body.errors[0].code).toBe('already_a_member_in_organization')
    const badRole = await call('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: carol.id,
      role: 'org:nope',
    })
    expect(badRole.status).toBe(422)
    expect(badRole.body.errors[0].meta.param_name).toBe('role')

    expect(
      (await ok('GET', `/v1/organizations/${org.id}/memberships?role=org:member`)).data.map((m: any) => m.id),
    ).toEqual([bobM.id])
    const page = await ok('GET', `/v1/organizations/${org.id}/memberships?limit=1&include_total_count=true`)
    expect(page.total_count).toBe(2)
    expect(page.data[0].id).toBe(bobM.id)
    expect(
      (await ok('GET', `/v1/organizations/${org.id}/memberships?cursor=${page.meta.next_cursor}`)).data[0].id,
    ).toBe(adminMembership.id)

    // The only admin cannot be demoted or removed.
    const demote = await call('PATCH', `/v1/organizations/${org.id}/memberships/${adminMembership.id}`, {
      role: 'org:member',
    })
    expect(demote.status).toBe(400)
    expect(demote.body.errors[0].code).toBe('organization_minimum_permissions_needed')
    const remove = await call('DELETE', `/v1/organizations/${org.id}/memberships/${adminMembership.id}`)
    expect(remove.status).toBe(400)
    expect(remove.body.errors[0].code).toBe('organization_minimum_permissions_needed')

    // Promote bob; now the first admin may step down.
    const promoted = await ok('PATCH', `/v1/organizations/${org.id}/memberships/${bobM.id}`, {
      role: 'org:admin',
      private_metadata: { note: 'lead' },
    })
    expect(promoted).toMatchObject({
      role: 'org:admin',
      private_metadata: { note: 'lead' },
      public_metadata: { team: 'red' },
    })
    expect(
      (
        await ok('PATCH', `/v1/organizations/${org.id}/memberships/${adminMembership.id}`, {
          role: 'org:member',
        })
      ).role,
    ).toBe('org:member')
    const removed = await ok('DELETE', `/v1/organizations/${org.id}/memberships/${adminMembership.id}`)
    expect(removed).toMatchObject({ id: adminMembership.id, role: 'org:member' })
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/memberships/${adminMembership.id}`)).status,
    ).toBe(404)
    expect((await events('organizationMembership.updated'))[0].data.id).toBe(adminMembership.id)
    expect((await events('organizationMembership.deleted'))[0].data.id).toBe(adminMembership.id)
  })

  it('counts members and pending invitations against the limit', async () => {
    const [admin, bob, carol] = [await user(), await user(), await user()]
    const org = await ok('POST', '/v1/organizations', {
      name: 'Tiny',
      created_by: admin.id,
      max_allowed_memberships: 2,
    })
    await ok('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'seat@example.com',
      notify: false,
    })
    const full = await call('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: bob.id,
      role: 'org:member',
    })
    expect(full.status).toBe(403)
    expect(full.body.errors[0].code).toBe('organization_membership_quota_exceeded')
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations`, { email_address: 'more@example.com' }))
        .status,
    ).toBe(403)
    await ok('PATCH', `/v1/organizations/${org.id}`, { max_allowed_memberships: 0 })
    await ok('POST', `/v1/organizations/${org.id}/memberships`, { user_id: bob.id, role: 'org:member' })
    await ok('POST', `/v1/organizations/${org.id}/memberships`, { user_id: carol.id, role: 'org:member' })
    expect((await ok('GET', `/v1/organizations/${org.id}`)).members_count).toBe(3)
  })
})

describe('deleting a member user', () => {
  it('removes the memberships with organizationMembership.deleted events', async () => {
    const [admin, gone] = [await user(), await user()]
    const org = await ok('POST', '/v1/organizations', { name: 'Leavers Ltd', created_by: admin.id })
    const m = await ok('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: gone.id,
      role: 'org:member',
    })
    await ok('DELETE', `/v1/users/${gone.id}`)
    const members = (await ok('GET', `/v1/organizations/${org.id}/memberships`)).data.map((x: any) => x.id)
    expect(members).not.toContain(m.id)
    expect((await events('organizationMembership.deleted')).some((e: any) => e.data.id === m.id)).toBe(true)
    expect((await ok('GET', `/v1/organizations/${org.id}`)).members_count).toBe(1)
  })
})

describe('/v1/organizations/{id}/invitations', () => {
  it('invites by email with a ticket link, lists, bulk-invites and revokes', async () => {
    const admin = await user({ first_name: 'Ada', last_name: 'Admin' })
    const org = await ok('POST', '/v1/organizations', { name: 'Inviters', created_by: admin.id })
    // A stored redirect_url must be one of the app's URLs.
    await ok('PATCH', '/v1/instance', { allowed_origins: ['https://app.example.com'] })
    const inv = await ok('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'New.Hire@Example.com',
      role: 'org:admin',
      inviter_user_id: admin.id,
      public_metadata: { dept: 'eng' },
      private_metadata: { ref: 7 },
      redirect_url: 'https://app.example.com/welcome',
    })
    expect(inv).toMatchObject({
      object: 'organization_invitation',
      email_address: 'new.hire@example.com',
      role: 'org:admin',
      role_name: 'Admin',
      organization_id: org.id,
      inviter_user_id: admin.id,
      status: 'pending',
      source: 'invitation',
      public_metadata: { dept: 'eng' },
      private_metadata: { ref: 7 },
      expire_at: h.clock.now() + 30 * 86400_000,
    })
    expect(inv.url).toStartWith(`https://${h.env.host}/v1/tickets/accept?ticket=oinv_`)
    await h.settle()
    const mail = delivery.sent.findLast((m) => m.to === 'new.hire@example.com')!
    expect(mail.subject).toBe(
      `You are invited to join Inviters on Test env ${h.env.host.match(/env(\d+)/)![1]}`,
    )
    expect(mail.text).toContain('Ada Admin invited you')
    expect(delivery.lastLink('new.hire@example.com')).toBe(inv.url)

    const dup = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: 'new.hire@example.com',
    })
    expect(dup.status).toBe(422)
    expect(dup.body.errors[0].code).toBe('duplicate_record')
    const member = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      email_address: admin.email_addresses[0].email_address,
    })
    expect(member.body.errors[0].code).toBe('already_a_member_in_organization')
    expect(
      (
        await call('POST', `/v1/organizations/${org.id}/invitations`, {
          email_address: 'x@example.com',
          role: 'org:ghost',
        })
      ).status,
    ).toBe(422)

    const bulk = await ok('POST', `/v1/organizations/${org.id}/invitations/bulk`, [
      { email_address: 'b1@example.com', notify: false },
      { email_address: 'b2@example.com', role: 'org:member', notify: false },
    ])
    expect(bulk.map((i: any) => [i.email_address, i.role])).toEqual([
      ['b1@example.com', 'org:member'],
      ['b2@example.com', 'org:member'],
    ])
    const badBulk = await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, [
      { email_address: 'b3@example.com' },
      { email_address: 'not an email' },
    ])
    expect(badBulk.status).toBe(422)
    expect(badBulk.body.errors[0].meta.param_name).toBe('1.email_address')
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ email_address: `m${i}@example.com` }))
    expect((await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, tooMany)).status).toBe(422)

    const revoked = await ok('POST', `/v1/organizations/${org.id}/invitations/${bulk[0].id}/revoke`)
    expect(revoked.status).toBe('revoked')
    const twice = await call('POST', `/v1/organizations/${org.id}/invitations/${bulk[0].id}/revoke`)
    expect(twice.status).toBe(400)
    expect(twice.body.errors[0].code).toBe('organization_invitation_not_pending')
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/orginv_01HZZZZZZZZZZZZZZZZZZZZZZZ/revoke`))
        .status,
    ).toBe(404)

    const pending = await ok('GET', `/v1/organizations/${org.id}/invitations?status=pending`)
    expect(pending.data.map((i: any) => i.email_address)).toEqual(['b2@example.com', 'new.hire@example.com'])
    expect(pending.data.every((i: any) => i.url === null)).toBe(true)
    const all = await ok('GET', `/v1/organizations/${org.id}/invitations?limit=2`)
    expect(all.data).toHaveLength(2)
    expect(
      (await ok('GET', `/v1/organizations/${org.id}/invitations?cursor=${all.meta.next_cursor}`)).data,
    ).toHaveLength(1)
    expect((await ok('GET', `/v1/organizations/${org.id}`)).pending_invitations_count).toBe(2)

    h.clock.advance(31 * 86400_000)
    expect((await ok('GET', `/v1/organizations/${org.id}/invitations?status=expired`)).data).toHaveLength(2)
    expect((await ok('GET', `/v1/organizations/${org.id}`)).pending_invitations_count).toBe(0)
    expect((await events('organizationInvitation.created')).length).toBeGreaterThanOrEqual(3)
    expect((await events('organizationInvitation.revoked'))[0].data.id).toBe(bulk[0].id)
  })
})

describe('/v1/roles and /v1/permissions', () => {
  it('lists the system permissions and default roles', async () => {
    const perms = await ok('GET', '/v1/permissions?type=system&limit=100')
    expect(perms.data.map((p: any) => p.key)).toEqual([
      'org:sys_profile:manage',
      'org:sys_profile:delete',
      'org:sys_memberships:read',
      'org:sys_memberships:manage',
      'org:sys_domains:read',
      'org:sys_domains:manage',
      'org:sys_enterprise_sso:manage',
      'org:sys_provisioning:read',
      'org:sys_provisioning:manage',
    ])
    expect(perms.data.every((p: any) => p.type === 'system' && p.id.startsWith('perm_'))).toBe(true)
    const roles = await ok('GET', '/v1/roles?include_total_count=true')
    expect(roles.total_count).toBe(2)
    const [admin, member] = roles.data
    expect(admin).toMatchObject({
      key: 'org:admin',
      is_creator_eligible: true,
      is_creator_role: true,
      is_default_role: false,
    })
    expect(admin.permissions).toHaveLength(9)
    expect(member).toMatchObject({ key: 'org:member', is_creator_eligible: false, is_default_role: true })
    expect(member.permissions.map((p: any) => p.key)).toEqual(['org:sys_memberships:read'])
  })

  it('creates, reads, updates and deletes custom roles and permissions', async () => {
    const perm = await ok('POST', '/v1/permissions', { key: 'org:invoices:read', name: 'Read invoices' })
    expect(perm).toMatchObject({
      object: 'permission',
      key: 'org:invoices:read',
      type: 'user',
      description: '',
    })
    expect((await call('POST', '/v1/permissions', { key: 'org:invoices:read', name: 'x' })).status).toBe(422)
    expect(
      (await call('POST', '/v1/permissions', { key: 'invoices:read', name: 'x' })).body.errors[0].code,
    ).toBe('form_param_format_invalid')
    expect(
      (await call('POST', '/v1/permissions', { key: 'org:sys_billing:read', name: 'x' })).body.errors[0].code,
    ).toBe('form_param_value_invalid')
    const write = await ok('POST', '/v1/permissions', { key: 'org:invoices:write', name: 'Write invoices' })

    const role = await ok('POST', '/v1/roles', {
      key: 'org:billing',
      name: 'Billing',
      description: 'Handles invoices',
      permissions: ['org:invoices:read', write.id, 'org:sys_memberships:read'],
    })
    expect(role).toMatchObject({
      object: 'role',
      key: 'org:billing',
      name: 'Billing',
      is_creator_eligible: false,
    })
    expect(role.permissions.map((p: any) => p.key)).toEqual([
      'org:invoices:read',
      'org:invoices:write',
      'org:sys_memberships:read',
    ])
    expect((await call('POST', '/v1/roles', { key: 'org:billing', name: 'again' })).status).toBe(422)
    expect((await call('POST', '/v1/roles', { key: 'Billing', name: 'bad' })).status).toBe(422)
    expect(
      (await call('POST', '/v1/roles', { key: 'org:x', name: 'x', permissions: ['org:nope:nope'] })).status,
    ).toBe(422)
    expect((await ok('GET', `/v1/roles/${role.id}`)).key).toBe('org:billing')
    expect((await call('GET', '/v1/roles/role_01HZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404)

    const renamed = await ok('PATCH', `/v1/roles/${role.id}`, { name: 'Finance', key: 'org:finance' })
    expect(renamed).toMatchObject({ name: 'Finance', key: 'org:finance', description: 'Handles invoices' })
    const replaced = await ok('PUT', `/v1/roles/${role.id}/permissions`, {
      permissions: ['org:invoices:read'],
    })
    expect(replaced.permissions.map((p: any) => p.key)).toEqual(['org:invoices:read'])

    // A role someone holds stays; so do the creator and default roles.
    const admin = await user()
    const org = await ok('POST', '/v1/organizations', { name: 'Role Holders', created_by: admin.id })
    const holder = await user()
    const m = await ok('POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: holder.id,
      role: 'org:finance',
    })
    const inUse = await call('DELETE', `/v1/roles/${role.id}`)
    expect(inUse.status).toBe(400)
    expect(inUse.body.errors[0].code).toBe('organization_role_in_use')
    const roles = (await ok('GET', '/v1/roles')).data
    const adminRole = roles.find((r: any) => r.key === 'org:admin')
    const memberRole = roles.find((r: any) => r.key === 'org:member')
    expect((await call('DELETE', `/v1/roles/${memberRole.id}`)).body.errors[0].code).toBe(
      'organization_role_in_use',
    )
    expect((await call('PATCH', `/v1/roles/${adminRole.id}`, { key: 'org:boss' })).body.errors[0].code).toBe(
      'organization_role_key_immutable',
    )
    const creatorStrip = await call('PUT', `/v1/roles/${adminRole.id}/permissions`, {
      permissions: ['org:sys_memberships:read'],
    })
    expect(creatorStrip.status).toBe(400)
    expect(creatorStrip.body.errors[0].code).toBe('organization_creator_role_missing_permissions')

    // A custom manager role: taking its manage permission away would orphan an org.
    const managers = await ok('POST', '/v1/roles', {
      key: 'org:lead',
      name: 'Lead',
      permissions: ['org:sys_memberships:manage'],
    })
    const solo = await user()
    const org2 = await ok('POST', '/v1/organizations', { name: 'Led' })
    await ok('POST', `/v1/organizations/${org2.id}/memberships`, { user_id: solo.id, role: 'org:lead' })
    const orphan = await call('PUT', `/v1/roles/${managers.id}/permissions`, { permissions: [] })
    expect(orphan.status).toBe(400)
    expect(orphan.body.errors[0].code).toBe('organization_minimum_permissions_needed')

    // A deleted permission leaves every role; system permissions stay.
    expect(await ok('DELETE', `/v1/permissions/${perm.id}`)).toEqual({
      object: 'permission',
      id: perm.id,
      key: 'org:invoices:read',
      deleted: true,
    })
    expect((await ok('GET', `/v1/roles/${role.id}`)).permissions).toEqual([])
    const sys = (await ok('GET', '/v1/permissions?type=system')).data[0]
    expect((await call('DELETE', `/v1/permissions/${sys.id}`)).body.errors[0].code).toBe(
      'system_permission_immutable',
    )
    expect((await call('DELETE', `/v1/permissions/${perm.id}`)).status).toBe(404)

    await ok('DELETE', `/v1/organizations/${org.id}/memberships/${m.id}`)
    expect(await ok('DELETE', `/v1/roles/${role.id}`)).toEqual({
      object: 'role',
      id: role.id,
      key: 'org:finance',
      deleted: true,
    })
    expect((await events('role.created')).map((e: any) => e.data.key)).toEqual(['org:lead', 'org:billing'])
    expect((await events('role.updated')).length).toBe(2)
    expect((await events('role.deleted'))[0].data.id).toBe(role.id)
    expect((await events('permission.created')).length).toBe(2)
    expect((await events('permission.deleted'))[0].data.id).toBe(perm.id)
  })

  it('checks the organization settings against the roles', async () => {
    const bad = await call('PATCH', '/v1/instance', { organizations: { creator_role: 'org:member' } })
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0].code).toBe('organization_creator_role_missing_permissions')
    const unknown = await call('PATCH', '/v1/instance', { organizations: { default_role: 'org:ghost' } })
    expect(unknown.status).toBe(422)
    expect(unknown.body.errors[0].meta.param_name).toBe('organizations.default_role')
    const format = await call('PATCH', '/v1/instance', { organizations: { creator_role: 'admin' } })
    expect(format.status).toBe(422)
  })
})
