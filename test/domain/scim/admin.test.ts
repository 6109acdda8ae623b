import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { sha256Hex } from '../../../src/crypto/secrets'
import { type Browser, browser } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

const PASSWORD = 'correct horse battery'
let h: Harness
beforeAll(async () => {
  h = await createHarness()
  expect((await h.bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })).status).toBe(200)
})
afterAll(() => h.close())

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

async function person(): Promise<{ b: Browser; id: string }> {
  const email = `scim-admin${++seq}@example.com`
  const u = await ok('POST', '/v1/users', { email_address: [email], password: PASSWORD })
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', {
    identifier: email,
    password: PASSWORD,
    strategy: 'password',
  })
  expect(si.status).toBe(200)
  return { b, id: u.id }
}

const scimGet = (token: string, path = '/scim/v2/Users') =>
  h.request(`https://${h.env.host}${path}`, { headers: { authorization: `Bearer ${token}` } })

describe('BAPI /v1/organizations/{id}/scim', () => {
  it('issues a token once, stores only its hash, lists it with last_used_at, and revokes it', async () => {
    const org = await ok('POST', '/v1/organizations', { name: `Org ${++seq}` })
    const endpoint = await ok('GET', `/v1/organizations/${org.id}/scim/endpoint`)
    expect(endpoint).toEqual({
      object: 'scim_endpoint',
      organization_id: org.id,
      endpoint_url: `https://${h.env.host}/scim/v2`,
    })
    const issued = await ok('POST', `/v1/organizations/${org.id}/scim/tokens`, { name: 'Entra' })
    expect(issued).toMatchObject({
      object: 'scim_token',
      organization_id: org.id,
      name: 'Entra',
      status: 'active',
      last_used_at: null,
      revoked_at: null,
      created_by: null,
    })
    expect(issued.id).toMatch(/^scimtok_/)
    expect(issued.token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/)
    expect(issued.token_prefix).toBe(issued.token.slice(0, 12))
    // Only the SHA-256 is stored; the plaintext is nowhere in the env file.
    const stored = h.ctx((ctx) =>
      ctx.client
        .query<{ token_hash: string }, [string]>('select token_hash from scim_tokens where id = ?')
        .get(issued.id),
    )
    expect(stored?.token_hash).toBe(sha256Hex(issued.token))
    const listed = await ok('GET', `/v1/organizations/${org.id}/scim/tokens`)
    expect(listed.data).toHaveLength(1)
    expect(listed.data[0].token).toBeUndefined()
    expect(JSON.stringify(listed)).not.toContain(issued.token)

    // A request with it marks it used.
    h.clock.advance(1000)
    expect((await scimGet(issued.token)).status).toBe(200)
    const used = (await ok('GET', `/v1/organizations/${org.id}/scim/tokens`)).data[0]
    expect(used.last_used_at).toBe(h.clock.now())

    const revoked = await ok('POST', `/v1/organizations/${org.id}/scim/tokens/${issued.id}/revoke`)
    expect(revoked).toMatchObject({ status: 'revoked', revoked_at: h.clock.now() })
    const refused = await scimGet(issued.token)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('content-type')).toBe('application/scim+json')
    expect(refused.headers.get('www-authenticate')).toBe('Bearer')
    expect(await body(refused)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
      detail: 'The bearer token is missing, unknown or revoked.',
    })
    // Revoked tokens stay listed.
    const after = await ok('GET', `/v1/organizations/${org.id}/scim/tokens?include_total_count=true`)
    expect(after.total_count).toBe(1)
    expect(after.data[0].status).toBe('revoked')
    const events = (await ok('GET', '/v1/events?limit=50')).data.map((e: any) => e.type)
    expect(events).toContain('scimToken.created')
    expect(events).toContain('scimToken.revoked')
    expect(JSON.stringify(await ok('GET', '/v1/events?limit=50'))).not.toContain(issued.token)
  })

  it("keeps each organization's tokens to itself", async () => {
    const a = await ok('POST', '/v1/organizations', { name: `Org ${++seq}` })
    const b = await ok('POST', '/v1/organizations', { name: `Org ${++seq}` })
    const t = await ok('POST', `/v1/organizations/${a.id}/scim/tokens`, {})
    const other = await call('POST', `/v1/organizations/${b.id}/scim/tokens/${t.id}/revoke`)
    expect(other.status).toBe(404)
    expect((await ok('GET', `/v1/organizations/${b.id}/scim/tokens`)).data).toEqual([])
    expect((await call('GET', '/v1/organizations/org_nope/scim/tokens')).status).toBe(404)
  })

  it('reads the default mapping, replaces it, refuses unknown attributes and roles, and reverts with {}', async () => {
    const org = await ok('POST', '/v1/organizations', { name: `Org ${++seq}` })
    const path = `/v1/organizations/${org.id}/scim/attribute-mappings`
    expect(await ok('GET', path)).toEqual({
      object: 'scim_attribute_mapping',
      organization_id: org.id,
      mapping: { 'name.givenName': 'first_name', 'name.familyName': 'last_name' },
      is_default: true,
      updated_at: null,
    })
    const mapping = {
      'name.givenName': 'first_name',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'public_metadata.department',
      'groups[displayName eq "Admins"]': 'org:admin',
    }
    const replaced = await ok('PUT', path, { mapping })
    expect(replaced).toMatchObject({ mapping, is_default: false, updated_at: h.clock.now() })
    expect((await ok('GET', path)).mapping).toEqual(mapping)

    const unknownAttr = await call('PUT', path, { mapping: { 'name.nope': 'first_name' } })
    expect(unknownAttr.status).toBe(422)
    expect(unknownAttr.body.errors[0]).toMatchObject({
      code: 'form_param_format_invalid',
      meta: { param_name: 'mapping.name.nope' },
    })
    const badTarget = await call('PUT', path, { mapping: { title: 'password' } })
    expect(badTarget.status).toBe(422)
    const badRole = await call('PUT', path, { mapping: { 'groups[displayName eq "X"]': 'org:nope' } })
    expect(badRole.status).toBe(422)
    expect((await ok('GET', path)).mapping).toEqual(mapping)

    const reverted = await ok('PUT', path, { mapping: {} })
    expect(reverted).toMatchObject({ is_default: true, mapping: { 'name.givenName': 'first_name' } })
  })
})

describe('FAPI /v1/organizations/{id}/scim', () => {
  it('needs org:sys_provisioning:read to see and :manage to change', async () => {
    const admin = await person()
    const member = await person()
    const outsider = await person()
    const org = await ok('POST', '/v1/organizations', { name: `Org ${++seq}`, created_by: admin.id })
    await ok('POST', `/v1/organizations/${org.id}/memberships`, { user_id: member.id, role: 'org:member' })

    const issued = await admin.b.json('POST', `/v1/organizations/${org.id}/scim/tokens`, { name: 'Okta' })
    expect(issued.status).toBe(200)
    expect(issued.body.response).toMatchObject({ name: 'Okta', created_by: admin.id })
    expect(issued.body.response.token).toMatch(/^scim_/)
    const list = await admin.b.json('GET', `/v1/organizations/${org.id}/scim/tokens`)
    expect(list.body.response.data.map((t: any) => t.id)).toEqual([issued.body.response.id])
    const endpoint = await admin.b.json('GET', `/v1/organizations/${org.id}/scim/endpoint`)
    expect(endpoint.body.response.endpoint_url).toBe(`https://${h.env.host}/scim/v2`)
    const mapped = await admin.b.json('PUT', `/v1/organizations/${org.id}/scim/attribute-mappings`, {
      mapping: { title: 'public_metadata.title' },
    })
    expect(mapped.status).toBe(200)
    expect(
      (await admin.b.json('GET', `/v1/organizations/${org.id}/scim/attribute-mappings`)).body.response
        .mapping,
    ).toEqual({
      title: 'public_metadata.title',
    })

    // A plain member has neither permission.
    for (const [method, p] of [
      ['GET', 'endpoint'],
      ['GET', 'tokens'],
      ['POST', 'tokens'],
      ['GET', 'attribute-mappings'],
    ] as const) {
      const r = await member.b.json(
        method,
        `/v1/organizations/${org.id}/scim/${p}`,
        method === 'POST' ? {} : undefined,
      )
      expect(r.status).toBe(403)
      expect(r.body.errors[0].code).toBe('authorization_invalid')
    }
    const revoke = await member.b.json(
      'POST',
      `/v1/organizations/${org.id}/scim/tokens/${issued.body.response.id}/revoke`,
    )
    expect(revoke.status).toBe(403)
    // A non-member does not learn the organization exists.
    const hidden = await outsider.b.json('GET', `/v1/organizations/${org.id}/scim/tokens`)
    expect(hidden.status).toBe(404)

    const revoked = await admin.b.json(
      'POST',
      `/v1/organizations/${org.id}/scim/tokens/${issued.body.response.id}/revoke`,
    )
    expect(revoked.body.response.status).toBe('revoked')
  })
})
