import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { isClerkAPIResponseError } from '@clerk/backend/errors'
import { PASSWORD, type SdkWorld, sdkWorld, uniqueEmail } from './support'

let w: SdkWorld
beforeAll(async () => {
  w = await sdkWorld()
  // Setup outside the SDK: its instance settings speak Clerk's dashboard shape, not ours.
  const res = await w.h.bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })
  if (res.status !== 200) throw new Error(`could not enable organizations: ${await res.text()}`)
})
afterAll(() => w.close())

async function refused(call: Promise<unknown>) {
  try {
    await call
  } catch (err) {
    if (isClerkAPIResponseError(err)) return err
    throw err
  }
  throw new Error('the call succeeded')
}

const user = (first = 'Member') =>
  w.clerk.users.createUser({ emailAddress: [uniqueEmail('org')], password: PASSWORD, firstName: first })

describe('@clerk/backend instance organization settings', () => {
  it('reads and updates them (/v1/instance/organization_settings)', async () => {
    const settings = await w.clerk.instance.getOrganizationSettings()
    expect(settings.enabled).toBe(true)
    expect(settings.maxAllowedMemberships).toBe(5)
    expect(settings.creatorRole).toBe('org:admin')
    expect(settings.domainsDefaultRole).toBe('org:member')
    expect(settings.adminDeleteEnabled).toBe(true)
    const updated = await w.clerk.instance.updateOrganizationSettings({ maxAllowedMemberships: 50 })
    expect(updated.maxAllowedMemberships).toBe(50)
    expect((await w.clerk.instance.getOrganizationSettings()).maxAllowedMemberships).toBe(50)
  })
})

describe('@clerk/backend organizations', () => {
  it('creates, gets (by id and slug), lists with the total, updates, merges metadata and deletes', async () => {
    const owner = await user('Owner')
    const org = await w.clerk.organizations.createOrganization({
      name: 'Acme',
      slug: `acme-${process.pid}`,
      createdBy: owner.id,
      publicMetadata: { plan: 'pro' },
      privateMetadata: { crm: 'x1' },
      maxAllowedMemberships: 25,
    })
    expect(org.id).toMatch(/^org_/)
    expect(org.name).toBe('Acme')
    expect(org.slug).toBe(`acme-${process.pid}`)
    expect(org.publicMetadata).toEqual({ plan: 'pro' })
    expect(org.privateMetadata).toEqual({ crm: 'x1' })
    expect(org.maxAllowedMemberships).toBe(25)
    expect(org.membersCount).toBe(1)
    expect(org.createdBy).toBe(owner.id)
    expect(org.createdAt).toBe(w.h.clock.now())

    expect((await w.clerk.organizations.getOrganization({ organizationId: org.id })).name).toBe('Acme')
    expect((await w.clerk.organizations.getOrganization({ slug: org.slug })).id).toBe(org.id)

    w.h.clock.advance(1000)
    const other = await w.clerk.organizations.createOrganization({ name: 'Other', createdBy: owner.id })
    const list = await w.clerk.organizations.getOrganizationList({ limit: 1 })
    expect(list.totalCount).toBe(2)
    expect(list.data.map((o) => o.id)).toEqual([other.id])
    const second = await w.clerk.organizations.getOrganizationList({ limit: 1, offset: 1 })
    expect(second.data.map((o) => o.id)).toEqual([org.id])

    const renamed = await w.clerk.organizations.updateOrganization(org.id, { name: 'Acme Inc' })
    expect(renamed.name).toBe('Acme Inc')
    const merged = await w.clerk.organizations.updateOrganizationMetadata(org.id, {
      publicMetadata: { seats: 10 },
      privateMetadata: { crm: null },
    })
    expect(merged.publicMetadata).toEqual({ plan: 'pro', seats: 10 })
    expect(merged.privateMetadata).toEqual({})

    const deleted = await w.clerk.organizations.deleteOrganization(other.id)
    expect({ ...deleted }).toEqual({
      object: 'organization',
      id: other.id,
      slug: other.slug,
      deleted: true,
    } as never)
    const gone = await refused(w.clerk.organizations.getOrganization({ organizationId: other.id }))
    expect(gone.status).toBe(404)
  })

  it('manages memberships addressed by user id, and lists a user’s memberships', async () => {
    const owner = await user('Owner')
    const org = await w.clerk.organizations.createOrganization({ name: 'Members', createdBy: owner.id })
    const alice = await user('Alice')
    const added = await w.clerk.organizations.createOrganizationMembership({
      organizationId: org.id,
      userId: alice.id,
      role: 'org:member',
    })
    expect(added.role).toBe('org:member')
    expect(added.organization.id).toBe(org.id)
    expect(added.publicUserData?.userId).toBe(alice.id)
    expect(added.publicUserData?.firstName).toBe('Alice')
    expect(added.publicUserData?.identifier).toBe(alice.primaryEmailAddress?.emailAddress)

    const members = await w.clerk.organizations.getOrganizationMembershipList({ organizationId: org.id })
    expect(members.totalCount).toBe(2)
    expect(members.data.map((m) => m.publicUserData?.userId).sort()).toEqual([owner.id, alice.id].sort())

    const promoted = await w.clerk.organizations.updateOrganizationMembership({
      organizationId: org.id,
      userId: alice.id,
      role: 'org:admin',
    })
    expect(promoted.id).toBe(added.id)
    expect(promoted.role).toBe('org:admin')

    const tagged = await w.clerk.organizations.updateOrganizationMembershipMetadata({
      organizationId: org.id,
      userId: alice.id,
      publicMetadata: { team: 'blue' },
    })
    expect(tagged.publicMetadata).toEqual({ team: 'blue' })

    const mine = await w.clerk.users.getOrganizationMembershipList({ userId: alice.id })
    expect(mine.totalCount).toBe(1)
    expect(mine.data[0]?.organization.name).toBe('Members')

    const removed = await w.clerk.organizations.deleteOrganizationMembership({
      organizationId: org.id,
      userId: alice.id,
    })
    expect(removed.id).toBe(added.id)
    expect((await w.clerk.users.getOrganizationMembershipList({ userId: alice.id })).totalCount).toBe(0)
  })

  it('invites, lists pending invitations and revokes', async () => {
    const owner = await user('Owner')
    const org = await w.clerk.organizations.createOrganization({ name: 'Invites', createdBy: owner.id })
    const email = uniqueEmail('invitee')
    const inv = await w.clerk.organizations.createOrganizationInvitation({
      organizationId: org.id,
      emailAddress: email,
      role: 'org:member',
      inviterUserId: owner.id,
      publicMetadata: { source: 'sdk' },
    })
    expect(inv.id).toMatch(/^orginv_/)
    expect(inv.emailAddress).toBe(email)
    expect(inv.role).toBe('org:member')
    expect(inv.organizationId).toBe(org.id)
    expect(inv.status).toBe('pending')
    expect(inv.publicMetadata).toEqual({ source: 'sdk' })

    const pending = await w.clerk.organizations.getOrganizationInvitationList({
      organizationId: org.id,
      status: ['pending'],
    })
    expect(pending.totalCount).toBe(1)
    expect(pending.data.map((i) => i.id)).toEqual([inv.id])
    const one = await w.clerk.organizations.getOrganizationInvitation({
      organizationId: org.id,
      invitationId: inv.id,
    })
    expect(one.emailAddress).toBe(email)
    expect(one.expiresAt).toBeGreaterThan(w.h.clock.now())

    const revoked = await w.clerk.organizations.revokeOrganizationInvitation({
      organizationId: org.id,
      invitationId: inv.id,
      requestingUserId: owner.id,
    })
    expect(revoked.status).toBe('revoked')
  })
})
