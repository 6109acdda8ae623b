import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bapiJson, events, expectError, ok } from '../../flows/support'
import { createHarness, type Harness } from '../../helpers/harness'
import { fixture, testIdp } from '../../helpers/saml-idp'

/**
 * `/v1/enterprise-connections` (BAPI): SAML from samlify's real IdP metadata (inline or by URL,
 * served on loopback), from fields with several certificates, write-only secrets, domains
 * unique per env, immutables, soft delete, the dry-run probe and the events.
 */

let h: Harness
let metadataServer: ReturnType<typeof Bun.serve>
const idp = testIdp()
beforeAll(async () => {
  h = await createHarness({ now: new Date().toISOString(), envs: [{}, {}] })
  metadataServer = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname === '/metadata'
        ? new Response(idp.metadata(), { headers: { 'content-type': 'application/samlmetadata+xml' } })
        : new Response('no', { status: 404 }),
  })
})
afterAll(() => {
  metadataServer.stop(true)
  h.close()
})

let n = 0
const domain = () => `corp${++n}-${process.pid}.test`

const samlByFields = (extra: Record<string, unknown> = {}) => ({
  name: 'Corp SAML',
  protocol: 'saml',
  domains: [domain()],
  saml_idp_entity_id: idp.entityId,
  saml_idp_sso_url: idp.ssoUrl,
  saml_idp_certificates: [fixture('idp.crt'), fixture('idp2.crt')],
  ...extra,
})

describe('SAML connections', () => {
  it('from IdP metadata XML: entity id, SSO URL and signing certificate are read; SP URLs derived', async () => {
    const d = domain()
    const c = ok(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        name: 'Okta',
        protocol: 'saml',
        domains: [d.toUpperCase()],
        saml_idp_metadata: idp.metadata(),
      }),
    )
    expect(c).toMatchObject({
      object: 'enterprise_connection',
      protocol: 'saml',
      provider: 'saml_custom',
      organization_id: null,
      domains: [d],
      active: true,
      jit_provisioning: true,
      allow_idp_initiated: false,
      saml_idp_entity_id: idp.entityId,
      saml_idp_sso_url: idp.ssoUrl,
      saml_acs_url: `https://${h.env.host}/v1/saml/${c.id}/acs`,
      saml_metadata_url: `https://${h.env.host}/v1/saml/${c.id}/metadata`,
      saml_sp_entity_id: `https://${h.env.host}/v1/saml/${c.id}/metadata`,
      has_saml_signing_key: false,
    })
    expect(c.id).toMatch(/^ec_/)
    expect(c.saml_idp_certificate).toContain('BEGIN CERTIFICATE')
    expect(c.saml_idp_certificates).toHaveLength(1)
    expect(c.saml_idp_certificates[0].valid).toBe(true)
    const created = await events(h, 'enterpriseConnection.created')
    expect(created.map((e) => e.data.id)).toContain(c.id)
  })

  it('from a metadata URL (fetched once, on loopback in development)', async () => {
    const url = `http://127.0.0.1:${metadataServer.port}/metadata`
    const c = ok(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        name: 'By URL',
        protocol: 'saml',
        domains: [domain()],
        saml_idp_metadata_url: url,
      }),
    )
    expect(c).toMatchObject({ saml_idp_metadata_url: url, saml_idp_entity_id: idp.entityId })
    const missing = await bapiJson(h, 'POST', '/v1/enterprise-connections', {
      name: 'By URL',
      protocol: 'saml',
      domains: [domain()],
      saml_idp_metadata_url: `http://127.0.0.1:${metadataServer.port}/nothing`,
    })
    expectError(missing, 422, 'enterprise_connection_fetch_failed', 'saml_idp_metadata_url')
  })

  it('by fields with several certificates (rotation); the SP signing key is write-only and null clears it', async () => {
    const c = ok(
      await bapiJson(
        h,
        'POST',
        '/v1/enterprise-connections',
        samlByFields({ saml_signing_key: fixture('sp.key'), saml_signing_certificate: fixture('sp.crt') }),
      ),
    )
    expect(c.saml_idp_certificates).toHaveLength(2)
    expect(c.has_saml_signing_key).toBe(true)
    expect(c.saml_signing_certificate).toContain('BEGIN CERTIFICATE')
    const text = JSON.stringify(ok(await bapiJson(h, 'GET', `/v1/enterprise-connections/${c.id}`)))
    expect(text).not.toContain('PRIVATE KEY')
    expect(JSON.stringify(c)).not.toContain('PRIVATE KEY')
    // Stored sealed, not in the clear.
    const stored = h.ctx((ctx) =>
      ctx.client.query('select saml_signing_key as k from enterprise_connections where id = ?').get(c.id),
    ) as { k: string }
    expect(stored.k).toStartWith('v1.')
    expect(stored.k).not.toContain('PRIVATE')
    const cleared = ok(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${c.id}`, { saml_signing_key: null }),
    )
    expect(cleared).toMatchObject({ has_saml_signing_key: false, saml_signing_certificate: null })
    const updated = await events(h, 'enterpriseConnection.updated')
    expect(updated.some((e) => e.data.id === c.id)).toBe(true)
    expect(JSON.stringify(updated)).not.toContain('PRIVATE KEY')
  })

  it('refuses bad input with a clear 422 and changes nothing', async () => {
    const before = ok(
      await bapiJson(h, 'GET', '/v1/enterprise-connections?include_total_count=true'),
    ).total_count
    expectError(
      await bapiJson(
        h,
        'POST',
        '/v1/enterprise-connections',
        samlByFields({ saml_idp_certificates: ['nope'] }),
      ),
      422,
      'form_param_format_invalid',
      'saml_idp_certificates',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ saml_idp_sso_url: undefined })),
      422,
      'form_param_missing',
      'saml_idp_sso_url',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ domains: ['not a domain'] })),
      422,
      'form_param_format_invalid',
      'domains',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ oidc_client_id: 'x' })),
      422,
      'form_param_format_invalid',
      'oidc_client_id',
    )
    // A signing key whose certificate is another key's.
    expectError(
      await bapiJson(
        h,
        'POST',
        '/v1/enterprise-connections',
        samlByFields({ saml_signing_key: fixture('sp.key'), saml_signing_certificate: fixture('idp.crt') }),
      ),
      422,
      'form_param_format_invalid',
      'saml_signing_certificate',
    )
    // Metadata with a DTD (external entities, entity expansion) is refused before parsing.
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${idp.metadata()}`
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        name: 'x',
        protocol: 'saml',
        domains: [domain()],
        saml_idp_metadata: xxe,
      }),
      422,
      'form_param_format_invalid',
      'saml_idp_metadata',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', {
        ...samlByFields(),
        organization_id: 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ',
      }),
      422,
      'form_param_format_invalid',
      'organization_id',
    )
    const after = ok(
      await bapiJson(h, 'GET', '/v1/enterprise-connections?include_total_count=true'),
    ).total_count
    expect(after).toBe(before)
  })

  it('domains are unique per env among live connections; another env may route the same domain', async () => {
    const d = domain()
    const a = ok(await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ domains: [d] })))
    expectError(
      await bapiJson(
        h,
        'POST',
        '/v1/enterprise-connections',
        samlByFields({ domains: [`${d}.`.toUpperCase()] }),
      ),
      422,
      'enterprise_connection_domain_taken',
      'domains',
    )
    ok(await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ domains: [d] }), h.envs[1]))
    // The other env's connection is invisible here.
    const mine = ok(await bapiJson(h, 'GET', '/v1/enterprise-connections?limit=500')).data
    expect(mine.every((c: any) => c.id !== undefined)).toBe(true)
    const theirs = ok(
      await bapiJson(h, 'GET', '/v1/enterprise-connections?limit=500', undefined, h.envs[1]),
    ).data
    expect(theirs.some((c: any) => c.id === a.id)).toBe(false)
    expectError(
      await bapiJson(h, 'GET', `/v1/enterprise-connections/${a.id}`, undefined, h.envs[1]),
      404,
      'resource_not_found',
    )
    // Deleting releases the domain.
    const del = ok(await bapiJson(h, 'DELETE', `/v1/enterprise-connections/${a.id}`))
    expect(del).toEqual({ object: 'enterprise_connection', id: a.id, deleted: true })
    expectError(await bapiJson(h, 'GET', `/v1/enterprise-connections/${a.id}`), 404, 'resource_not_found')
    expect((await events(h, 'enterpriseConnection.deleted')).some((e) => e.data.id === a.id)).toBe(true)
    ok(await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ domains: [d] })))
    // Still stored (soft delete).
    const row = h.ctx((ctx) =>
      ctx.client.query('select deleted_at from enterprise_connections where id = ?').get(a.id),
    ) as { deleted_at: number }
    expect(row.deleted_at).toBeGreaterThan(0)
  })

  it('protocol and organization_id are immutable', async () => {
    const c = ok(await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields()))
    expectError(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${c.id}`, { protocol: 'oidc' }),
      422,
      'form_param_unknown',
    )
    expectError(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${c.id}`, { organization_id: null }),
      422,
      'form_param_unknown',
    )
    const renamed = ok(
      await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${c.id}`, {
        name: 'Renamed',
        allow_idp_initiated: true,
        attribute_mapping: { email_address: 'mail' },
      }),
    )
    expect(renamed).toMatchObject({
      name: 'Renamed',
      protocol: 'saml',
      allow_idp_initiated: true,
      attribute_mapping: { email_address: 'mail' },
    })
  })

  it('the probe reports a result per check, failing on expired certificates', async () => {
    const sso = `http://127.0.0.1:${metadataServer.port}/sso`
    const good = ok(
      await bapiJson(h, 'POST', '/v1/enterprise-connections', samlByFields({ saml_idp_sso_url: sso })),
    )
    const r = ok(await bapiJson(h, 'POST', `/v1/enterprise-connections/${good.id}/test`))
    expect(r).toMatchObject({ object: 'enterprise_connection_test_result', connection_id: good.id })
    const byName = (name: string) => r.checks.filter((c: any) => c.name === name)
    expect(byName('certificate')[0].status).toBe('pass')
    expect(byName('certificate_expiry').map((c: any) => c.status)).toEqual(['pass', 'pass'])
    expect(byName('acs_url')[0].details.acs_url).toBe(good.saml_acs_url)
    // Any HTTP answer counts as reachable (a GET without SAMLRequest is often a 4xx).
    expect(byName('sso_url')[0].status).toBe('pass')
    expect(r.ok).toBe(true)

    const expired = ok(
      await bapiJson(
        h,
        'POST',
        '/v1/enterprise-connections',
        samlByFields({
          saml_idp_certificates: [fixture('expired.crt')],
          saml_idp_sso_url: sso,
        }),
      ),
    )
    expect(expired.saml_idp_certificate).toBeNull()
    const bad = ok(await bapiJson(h, 'POST', `/v1/enterprise-connections/${expired.id}/test`))
    expect(bad.ok).toBe(false)
    expect(bad.checks.find((c: any) => c.name === 'certificate').status).toBe('fail')
    expect(bad.checks.find((c: any) => c.name === 'certificate_expiry').message).toContain('expired')
    expect(bad.checks.find((c: any) => c.name === 'sso_url').status).toBe('pass')
  })
})
