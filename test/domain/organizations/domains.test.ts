import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Browser, browser, recordingDelivery } from '../../helpers/browser'
import { startDnsServer, type TestDns } from '../../helpers/dns'
import { body, createHarness, type Harness } from '../../helpers/harness'

const delivery = recordingDelivery()
const PASSWORD = 'correct horse battery'
let h: Harness
let dns: TestDns
beforeAll(async () => {
  // A real DNS server on loopback; the env resolves through it (AUTHN_DNS_SERVER).
  dns = await startDnsServer()
  h = await createHarness({ delivery, config: { dnsServer: dns.server } })
  const res = await h.bapi('PATCH', '/v1/instance', {
    organizations: { enabled: true, domains_enabled: true },
  })
  expect(res.status).toBe(200)
})
afterAll(async () => {
  h.close()
  await dns.close()
})

let seq = 0
const call = async (method: string, path: string, payload?: Record<string, unknown>) => {
  const res = await h.bapi(method, path, payload)
  return { status: res.status, body: await body(res) }
}
const ok = async (method: string, path: string, payload?: Record<string, unknown>) => {
  const r = await call(method, path, payload)
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
async function org() {
  const admin = await ok('POST', '/v1/users', {
    email_address: [`dom-admin${++seq}@example.com`],
    password: PASSWORD,
  })
  const o = await ok('POST', '/v1/organizations', { name: `Domain Org ${seq}`, created_by: admin.id })
  return { org: o, admin }
}
async function signedIn(email: string): Promise<{ b: Browser; id: string }> {
  const u = await ok('POST', '/v1/users', { email_address: [email], password: PASSWORD })
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', { identifier: email, password: PASSWORD })
  expect(si.body.response.status).toBe('complete')
  return { b, id: u.id }
}

describe('domains', () => {
  it('adds, lists, updates and deletes domains, refusing bad and public ones', async () => {
    const { org: o } = await org()
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, { name: 'Widgets.EXAMPLE' })
    expect(d).toMatchObject({
      object: 'organization_domain',
      organization_id: o.id,
      name: 'widgets.example',
      enrollment_mode: 'manual_invitation',
      affiliation_email_address: null,
      verification: { status: 'unverified', strategy: null, attempts: 0 },
      dns_record: { type: 'TXT', name: '_authn-verification.widgets.example' },
      total_pending_invitations: 0,
      total_pending_suggestions: 0,
    })
    expect(d.id).toMatch(/^orgdmn_/)
    expect(d.dns_record.value).toMatch(/^authn-domain-verification=/)
    const taken = await call('POST', `/v1/organizations/${o.id}/domains`, { name: 'widgets.example' })
    expect(taken.status).toBe(422)
    expect(taken.body.errors[0].code).toBe('form_identifier_exists')
    expect(
      (await call('POST', `/v1/organizations/${o.id}/domains`, { name: 'gmail.com' })).body.errors[0].code,
    ).toBe('organization_domain_common')
    expect((await call('POST', `/v1/organizations/${o.id}/domains`, { name: 'not a domain' })).status).toBe(
      422,
    )
    const trusted = await ok('POST', `/v1/organizations/${o.id}/domains`, {
      name: 'gadgets.example',
      verified: true,
    })
    expect(trusted.verification).toMatchObject({
      status: 'verified',
      strategy: 'admin',
      verified_at: h.clock.now(),
    })

    const list = await ok('GET', `/v1/organizations/${o.id}/domains?limit=1&include_total_count=true`)
    expect(list.total_count).toBe(2)
    expect(list.data[0].id).toBe(trusted.id)
    expect(
      (await ok('GET', `/v1/organizations/${o.id}/domains?cursor=${list.meta.next_cursor}`)).data[0].id,
    ).toBe(d.id)
    expect(
      (await ok('GET', `/v1/organizations/${o.id}/domains?verified=false`)).data.map((x: any) => x.id),
    ).toEqual([d.id])

    const patched = await ok('PATCH', `/v1/organizations/${o.id}/domains/${d.id}`, {
      enrollment_mode: 'automatic_suggestion',
    })
    expect(patched.enrollment_mode).toBe('automatic_suggestion')
    expect(
      (await call('PATCH', `/v1/organizations/${o.id}/domains/${d.id}`, { enrollment_mode: 'sometimes' }))
        .status,
    ).toBe(422)
    expect(await ok('DELETE', `/v1/organizations/${o.id}/domains/${d.id}`)).toEqual({
      object: 'organization_domain',
      id: d.id,
      organization_id: o.id,
      name: 'widgets.example',
      deleted: true,
    })
    expect((await call('DELETE', `/v1/organizations/${o.id}/domains/${d.id}`)).status).toBe(404)
    const { org: other } = await org()
    expect((await call('PATCH', `/v1/organizations/${other.id}/domains/${trusted.id}`, {})).status).toBe(404)
    const types = (await ok('GET', '/v1/events?limit=100')).data.map((e: any) => e.type)
    expect(types).toContain('organizationDomain.created')
    expect(types).toContain('organizationDomain.updated')
    expect(types).toContain('organizationDomain.deleted')
  })

  it('are off until the instance enables them', async () => {
    const { org: o } = await org()
    await ok('PATCH', '/v1/instance', { organizations: { domains_enabled: false } })
    try {
      const r = await call('POST', `/v1/organizations/${o.id}/domains`, { name: 'off.example' })
      expect(r.status).toBe(403)
      expect(r.body.errors[0].code).toBe('organization_domains_not_enabled')
    } finally {
      await ok('PATCH', '/v1/instance', { organizations: { domains_enabled: true } })
    }
  })
})

describe('dns_txt verification against a DNS server on loopback', () => {
  it('stays unverified while the record is absent and verifies once it is published', async () => {
    const { org: o } = await org()
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, { name: 'acme-dns.example' })
    const c = await ok('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'dns_txt',
    })
    expect(c).toMatchObject({
      object: 'challenge',
      parent_type: 'organization_domain',
      parent_id: d.id,
      step: 'affiliation',
      strategy: 'dns_txt',
      status: 'unverified',
      safe_identifier: null,
      dns_record: { type: 'TXT', name: '_authn-verification.acme-dns.example', value: d.dns_record.value },
      expire_at: h.clock.now() + 7 * 86400_000,
    })
    const path = `/v1/organizations/${o.id}/domains/${d.id}/challenges/${c.id}`

    // Absent: the name does not exist at all, then exists with someone else's value.
    expect((await ok('GET', path)).status).toBe('unverified')
    expect(dns.queries).toContain('_authn-verification.acme-dns.example TXT')
    const absent = await call('POST', `${path}/answer`, {})
    expect(absent.status).toBe(400)
    expect(absent.body.errors[0].code).toBe('dns_record_not_found')
    dns.records.set('_authn-verification.acme-dns.example', [
      'v=spf1 -all',
      'authn-domain-verification=someone-else',
    ])
    expect((await ok('GET', path)).status).toBe('unverified')
    expect((await ok('GET', `/v1/organizations/${o.id}/domains`)).data[0].verification.status).toBe(
      'unverified',
    )

    // Published: the next poll verifies the domain.
    dns.records.set('_authn-verification.acme-dns.example', ['v=spf1 -all', d.dns_record.value])
    const polled = await ok('GET', path)
    expect(polled).toMatchObject({ status: 'verified', verified_at: h.clock.now() })
    const domain = (await ok('GET', `/v1/organizations/${o.id}/domains`)).data[0]
    expect(domain.verification).toMatchObject({
      status: 'verified',
      strategy: 'dns_txt',
      verified_at: h.clock.now(),
    })
    const again = await call('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'dns_txt',
    })
    expect(again.body.errors[0].code).toBe('verification_already_verified')
    const events = (await ok('GET', '/v1/events?type=organizationDomain.updated')).data
    expect(events[0].data).toMatchObject({ id: d.id, verification: { status: 'verified' } })
  })

  it('verifies on answer once the record is there; an expired challenge stays expired', async () => {
    const { org: o } = await org()
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, { name: 'answer-dns.example' })
    const c = await ok('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'dns_txt',
    })
    dns.records.set('_authn-verification.answer-dns.example', [d.dns_record.value])
    const verified = await ok('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges/${c.id}/answer`)
    expect(verified).toMatchObject({ id: d.id, verification: { status: 'verified', strategy: 'dns_txt' } })

    const d2 = await ok('POST', `/v1/organizations/${o.id}/domains`, { name: 'late-dns.example' })
    const c2 = await ok('POST', `/v1/organizations/${o.id}/domains/${d2.id}/challenges`, {
      strategy: 'dns_txt',
    })
    h.clock.advance(7 * 86400_000 + 1)
    dns.records.set('_authn-verification.late-dns.example', [d2.dns_record.value])
    const path = `/v1/organizations/${o.id}/domains/${d2.id}/challenges/${c2.id}`
    expect((await ok('GET', path)).status).toBe('expired')
    expect((await call('POST', `${path}/answer`)).body.errors[0].code).toBe('verification_expired')
    expect(
      (
        await call(
          'GET',
          `/v1/organizations/${o.id}/domains/${d2.id}/challenges/chl_01HZZZZZZZZZZZZZZZZZZZZZZZ`,
        )
      ).status,
    ).toBe(404)
  })
})

describe('email_code verification', () => {
  it('sends a code to an address at the domain and verifies with it', async () => {
    const { org: o } = await org()
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, { name: 'mail-verify.example' })
    const elsewhere = await call('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'email_code',
      email_address: 'it@other.example',
    })
    expect(elsewhere.status).toBe(422)
    expect(elsewhere.body.errors[0].meta.param_name).toBe('email_address')
    expect(
      (await call('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, { strategy: 'email_code' }))
        .status,
    ).toBe(422)
    const c = await ok('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'email_code',
      email_address: 'IT@mail-verify.example',
    })
    expect(c).toMatchObject({
      strategy: 'email_code',
      safe_identifier: 'i***@mail-verify.example',
      dns_record: null,
    })
    await h.settle()
    const code = delivery.lastCode('it@mail-verify.example')
    const answer = `/v1/organizations/${o.id}/domains/${d.id}/challenges/${c.id}/answer`
    const wrong = await call('POST', answer, { code: code === '000000' ? '111111' : '000000' })
    expect(wrong.status).toBe(422)
    expect(wrong.body.errors[0].code).toBe('form_code_incorrect')
    expect((await call('POST', answer, {})).body.errors[0].code).toBe('form_param_missing')
    const verified = await ok('POST', answer, { code })
    expect(verified).toMatchObject({
      verification: { status: 'verified', strategy: 'email_code', attempts: 1 },
      affiliation_email_address: 'it@mail-verify.example',
    })
  })
})

describe('enrollment by verified domain', () => {
  it('automatic_invitation invites existing and new users at the domain', async () => {
    const { org: o } = await org()
    const early = await signedIn('early@invite-me.example')
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, {
      name: 'invite-me.example',
      enrollment_mode: 'automatic_invitation',
    })
    // Not verified yet: nothing happens.
    expect((await early.b.json('GET', '/v1/me/organization-invitations')).body.response.data).toEqual([])
    const c = await ok('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
      strategy: 'dns_txt',
    })
    dns.records.set('_authn-verification.invite-me.example', [d.dns_record.value])
    await ok('GET', `/v1/organizations/${o.id}/domains/${d.id}/challenges/${c.id}`)

    const mine = await early.b.json('GET', '/v1/me/organization-invitations')
    expect(mine.body.response.data).toHaveLength(1)
    expect(mine.body.response.data[0]).toMatchObject({
      source: 'domain',
      role: 'org:member',
      email_address: 'early@invite-me.example',
      public_organization_data: { id: o.id },
    })
    expect((await ok('GET', `/v1/organizations/${o.id}/domains`)).data[0].total_pending_invitations).toBe(1)
    await h.settle()
    expect(delivery.sent.some((m) => m.to === 'early@invite-me.example')).toBe(false)

    // A user who signs up later with an address there is invited at once.
    const b = browser(h)
    const su = await b.json('POST', '/v1/client/sign-ups', {
      email_address: 'late+authn_test@invite-me.example',
      password: PASSWORD,
    })
    await b.json('POST', `/v1/client/sign-ups/${su.body.response.id}/challenges`, { strategy: 'email_code' })
    const ch = (await b.json('GET', `/v1/client/sign-ups/${su.body.response.id}`)).body.response.verifications
      .email_address.challenge
    const done = await b.json(
      'POST',
      `/v1/client/sign-ups/${su.body.response.id}/challenges/${ch.id}/answer`,
      { code: '424242' },
    )
    expect(done.body.response.status).toBe('complete')
    const lateInv = (await b.json('GET', '/v1/me/organization-invitations')).body.response.data
    expect(lateInv.map((i: any) => i.email_address)).toEqual(['late+authn_test@invite-me.example'])

    const accepted = await early.b.json(
      'POST',
      `/v1/me/organization-invitations/${mine.body.response.data[0].id}/accept`,
    )
    expect(accepted.status).toBe(200)
    const memberships = await early.b.json('GET', '/v1/me/organization-memberships')
    expect(memberships.body.response.data.map((m: any) => [m.organization.id, m.role])).toEqual([
      [o.id, 'org:member'],
    ])
  })

  it('automatic_suggestion makes membership requests that managers accept or reject', async () => {
    const { org: o, admin } = await org()
    const adminB = browser(h)
    await adminB.json('POST', '/v1/client/sign-ins', {
      identifier: admin.email_addresses[0].email_address,
      password: PASSWORD,
    })
    const [ann, ben] = [await signedIn('ann@suggest.example'), await signedIn('ben@suggest.example')]
    const d = await ok('POST', `/v1/organizations/${o.id}/domains`, {
      name: 'suggest.example',
      verified: true,
    })
    expect((await ann.b.json('GET', '/v1/me/organization-membership-requests')).body.response.data).toEqual(
      [],
    )
    await ok('PATCH', `/v1/organizations/${o.id}/domains/${d.id}`, {
      enrollment_mode: 'automatic_suggestion',
    })

    // A later verified address at the domain (added and verified on /v1/me) also gets one.
    const cat = await signedIn('cat@elsewhere.example')
    const added = await cat.b.json('POST', '/v1/me/email-addresses', {
      email_address: 'cat+authn_test@suggest.example',
    })
    const ch = await cat.b.json('POST', `/v1/me/email-addresses/${added.body.response.id}/challenges`, {
      strategy: 'email_code',
    })
    await cat.b.json(
      'POST',
      `/v1/me/email-addresses/${added.body.response.id}/challenges/${ch.body.response.id}/answer`,
      {
        code: '424242',
      },
    )

    const annReq = await ann.b.json('GET', '/v1/me/organization-membership-requests')
    expect(annReq.status).toBe(200)
    expect(annReq.body.response.data).toHaveLength(1)
    expect(annReq.body.response.data[0]).toMatchObject({
      object: 'organization_membership_request',
      organization_id: o.id,
      status: 'pending',
      public_user_data: { user_id: ann.id },
      public_organization_data: { id: o.id },
    })
    expect(
      (await cat.b.json('GET', '/v1/me/organization-membership-requests')).body.response.data,
    ).toHaveLength(1)
    expect((await ok('GET', `/v1/organizations/${o.id}/domains`)).data[0].total_pending_suggestions).toBe(3)

    const pending = await adminB.json('GET', `/v1/organizations/${o.id}/membership-requests?status=pending`)
    expect(pending.status).toBe(200)
    expect(pending.body.response.data).toHaveLength(3)
    // Members who cannot manage members are refused.
    await ok('POST', `/v1/organizations/${o.id}/memberships`, { user_id: ben.id, role: 'org:member' })
    const denied = await ben.b.json('GET', `/v1/organizations/${o.id}/membership-requests`)
    expect(denied.status).toBe(403)
    expect(denied.body.errors[0].code).toBe('authorization_invalid')
    const annId = annReq.body.response.data[0].id
    expect(
      (await ben.b.json('POST', `/v1/organizations/${o.id}/membership-requests/${annId}/accept`)).status,
    ).toBe(403)
    expect(
      (await ben.b.json('POST', `/v1/organizations/${o.id}/membership-requests/${annId}/reject`)).status,
    ).toBe(403)
    // Adding ben directly settled his request.
    expect(
      (await ben.b.json('GET', '/v1/me/organization-membership-requests')).body.response.data[0].status,
    ).toBe('accepted')

    const acc = await adminB.json('POST', `/v1/organizations/${o.id}/membership-requests/${annId}/accept`)
    expect(acc.status).toBe(200)
    expect(acc.body.response.status).toBe('accepted')
    const annMember = await ann.b.json('GET', '/v1/me/organization-memberships')
    expect(annMember.body.response.data.map((m: any) => [m.organization.id, m.role])).toEqual([
      [o.id, 'org:member'],
    ])
    const again = await adminB.json('POST', `/v1/organizations/${o.id}/membership-requests/${annId}/reject`)
    expect(again.status).toBe(400)
    expect(again.body.errors[0].code).toBe('organization_membership_request_not_pending')
    const catId = (await cat.b.json('GET', '/v1/me/organization-membership-requests')).body.response.data[0]
      .id
    const rej = await adminB.json('POST', `/v1/organizations/${o.id}/membership-requests/${catId}/reject`)
    expect(rej.body.response.status).toBe('rejected')
    expect((await cat.b.json('GET', '/v1/me/organization-memberships')).body.response.data).toEqual([])
  })
})
