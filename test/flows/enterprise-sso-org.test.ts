import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type Browser, browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { fixture } from '../helpers/saml-idp'
import { bapiJson, createUser, emailOf, expectError, ok, signIn } from './support'

/**
 * The FAPI org-scoped connections (`/v1/organizations/{org_id}/enterprise-connections`): members
 * holding org:sys_enterprise_sso:manage (admins) manage their organization's connections only;
 * members without it get 403, outsiders 404.
 */

let h: Harness
let admin: Browser
let member: Browser
let outsider: Browser
let org: any
let otherOrg: any
let n = 0
/** Verified by each organization in beforeAll: connections may route them and their subdomains. */
const globex = `globex-${process.pid}.test`
const hooli = `hooli-${process.pid}.test`
const domain = (parent = globex) => `self-serve${++n}.${parent}`
const body = (extra: Record<string, unknown> = {}) => ({
  name: 'Our IdP',
  protocol: 'saml',
  domains: [domain()],
  saml_idp_entity_id: 'https://idp.corp.test/saml',
  saml_idp_sso_url: 'https://idp.corp.test/sso',
  saml_idp_certificate: fixture('idp.crt'),
  ...extra,
})

async function signedInBrowser() {
  const user = await createUser(h)
  const b = browser(h)
  await signIn(b, emailOf(user))
  return { b, user }
}

beforeAll(async () => {
  h = await createHarness({ now: new Date().toISOString() })
  ok(await bapiJson(h, 'PATCH', '/v1/instance', { organizations: { enabled: true, domains_enabled: true } }))
  const a = await signedInBrowser()
  const m = await signedInBrowser()
  const o = await signedInBrowser()
  admin = a.b
  member = m.b
  outsider = o.b
  org = ok(await bapiJson(h, 'POST', '/v1/organizations', { name: 'Globex', created_by: a.user.id }))
  otherOrg = ok(await bapiJson(h, 'POST', '/v1/organizations', { name: 'Hooli', created_by: o.user.id }))
  ok(
    await bapiJson(h, 'POST', `/v1/organizations/${org.id}/memberships`, {
      user_id: m.user.id,
      role: 'org:member',
    }),
  )
  ok(await bapiJson(h, 'POST', `/v1/organizations/${org.id}/domains`, { name: globex, verified: true }))
  ok(await bapiJson(h, 'POST', `/v1/organizations/${otherOrg.id}/domains`, { name: hooli, verified: true }))
})
afterAll(() => h.close())

const path = (orgId = org.id, rest = '') => `/v1/organizations/${orgId}/enterprise-connections${rest}`

describe('org-scoped enterprise connections (FAPI)', () => {
  it('an admin creates, reads, updates, tests and deletes the organization’s connections', async () => {
    const created = ok(await admin.json('POST', path(), body())).response
    expect(created).toMatchObject({
      object: 'enterprise_connection',
      organization_id: org.id,
      protocol: 'saml',
    })
    const listed = ok(await admin.json('GET', path())).response.data
    expect(listed.map((c: any) => c.id)).toEqual([created.id])
    expect(ok(await admin.json('GET', path(org.id, `/${created.id}`))).response.id).toBe(created.id)
    const renamed = ok(
      await admin.json('PATCH', path(org.id, `/${created.id}`), { name: 'Renamed' }),
    ).response
    expect(renamed.name).toBe('Renamed')
    const probe = ok(await admin.json('POST', path(org.id, `/${created.id}/test`))).response
    expect(probe).toMatchObject({ object: 'enterprise_connection_test_result', connection_id: created.id })
    expect(ok(await admin.json('DELETE', path(org.id, `/${created.id}`))).response).toEqual({
      object: 'enterprise_connection',
      id: created.id,
      deleted: true,
    })
    expectError(await admin.json('GET', path(org.id, `/${created.id}`)), 404, 'resource_not_found')
  })

  it('organization_id on the body must be this organization; it cannot be changed', async () => {
    expectError(
      await admin.json('POST', path(), body({ organization_id: otherOrg.id })),
      422,
      'form_param_format_invalid',
      'organization_id',
    )
    const c = ok(await admin.json('POST', path(), body({ organization_id: org.id }))).response
    expectError(
      await admin.json('PATCH', path(org.id, `/${c.id}`), { organization_id: otherOrg.id }),
      422,
      'form_param_unknown',
    )
  })

  it('another organization’s (or an instance-wide) connection is not found here', async () => {
    const theirs = ok(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        ...body({ domains: [domain(hooli)] }),
        organization_id: otherOrg.id,
      }),
    )
    const global = ok(await bapiJson(h, 'POST', '/v1/enterprise-connections', body()))
    for (const id of [theirs.id, global.id]) {
      expectError(await admin.json('GET', path(org.id, `/${id}`)), 404, 'resource_not_found')
      expectError(await admin.json('PATCH', path(org.id, `/${id}`), { name: 'x' }), 404, 'resource_not_found')
      expectError(await admin.json('DELETE', path(org.id, `/${id}`)), 404, 'resource_not_found')
    }
    const listed = ok(await admin.json('GET', path())).response.data
    expect(listed.some((c: any) => c.id === theirs.id || c.id === global.id)).toBe(false)
  })

  it('a member without org:sys_enterprise_sso:manage is refused; outsiders and the signed-out see nothing', async () => {
    expectError(await member.json('GET', path()), 403, 'authorization_invalid')
    expectError(await member.json('POST', path(), body()), 403, 'authorization_invalid')
    expectError(await outsider.json('GET', path()), 404, 'resource_not_found')
    const anonymous = browser(h)
    const r = await anonymous.json('GET', path())
    expect(r.status).toBe(401)
  })

  it('routes only domains the organization has verified: others are a clear 422', async () => {
    const unverified = `pending-${process.pid}.test`
    ok(await bapiJson(h, 'POST', `/v1/organizations/${org.id}/domains`, { name: unverified }))
    for (const d of [`nobody-${process.pid}.test`, unverified, domain(hooli), `${globex}.evil.test`]) {
      expectError(
        await admin.json('POST', path(), body({ domains: [domain(), d] })),
        422,
        'enterprise_connection_domain_unverified',
        'domains',
      )
      expectError(
        await bapiJson(h, 'POST', '/v1/enterprise-connections', {
          ...body({ domains: [d] }),
          organization_id: org.id,
        }),
        422,
        'enterprise_connection_domain_unverified',
        'domains',
      )
    }
    // The verified domain itself and its subdomains are fine; an update to another is refused.
    const c = ok(await admin.json('POST', path(), body({ domains: [globex] }))).response
    expect(c.domains).toEqual([globex])
    expectError(
      await admin.json('PATCH', path(org.id, `/${c.id}`), { domains: [unverified] }),
      422,
      'enterprise_connection_domain_unverified',
    )
    expect(ok(await admin.json('GET', path(org.id, `/${c.id}`))).response.domains).toEqual([globex])
    ok(await admin.json('DELETE', path(org.id, `/${c.id}`)))
    // Instance-wide connections are the operator's and need no organization domain.
    ok(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', body({ domains: [`ops-${process.pid}.test`] })),
    )
  })
})
