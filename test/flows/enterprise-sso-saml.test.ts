import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { type Browser, browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import {
  fixture,
  type LoginResponseOptions,
  loginResponse,
  parseAuthnRequest,
  type TestIdp,
  testIdp,
  unsignedResponse,
} from '../helpers/saml-idp'
import { bapiJson, events, expectError, ok, PASSWORD } from './support'

/**
 * SAML enterprise sign-in against samlify as the real IdP: our AuthnRequest parsed by samlify,
 * its signed responses posted to our ACS, and the attacks of issue 13 built from its output.
 * node-saml reads the real clock, so the harness clock starts now.
 */

let h: Harness
const idp = testIdp()
const APP = 'http://localhost:5173/after'
let seq = 0
const domain = `corp-${process.pid}.test`
const email = (tag = 'ada') => `${tag}${++seq}@${domain}`

beforeAll(async () => {
  h = await createHarness({ now: new Date().toISOString(), envs: [{}, {}] })
})
afterAll(() => h.close())

async function createConnection(extra: Record<string, unknown> = {}, d = domain) {
  return ok(
    await bapiJson(h, 'POST', '/v1/enterprise-connections', {
      name: 'Corp',
      protocol: 'saml',
      domains: [d],
      saml_idp_metadata: idp.metadata(),
      ...extra,
    }),
  )
}

let conn: any
beforeAll(async () => {
  conn = await createConnection()
})

const pathOf = (url: string) => {
  const u = new URL(url)
  return u.pathname + u.search
}

/** Identifier → our start hop → the IdP URL; samlify parses the AuthnRequest. */
async function startSignIn(b: Browser, identifier: string, c = conn) {
  const created = await b.json('POST', '/v1/client/sign-ins', {
    strategy: 'enterprise_sso',
    identifier,
    redirect_url: APP,
  })
  const signIn = ok(created).response
  const v = signIn.first_factor_verification
  expect(v).toMatchObject({ strategy: 'enterprise_sso', status: 'unverified' })
  expect(v.external_verification_redirect_url).toStartWith(
    `https://${h.env.host}/v1/saml/${c.id}/start?state=`,
  )
  const hop = await b.call('GET', pathOf(v.external_verification_redirect_url))
  expect(hop.status).toBe(303)
  const location = hop.headers.get('location')!
  expect(location).toStartWith(`${idp.ssoUrl}?SAMLRequest=`)
  const request = await parseAuthnRequest(idp, c.saml_sp_entity_id, c.saml_acs_url, location)
  expect(request.issuer).toBe(c.saml_sp_entity_id)
  expect(request.acs).toBe(c.saml_acs_url)
  expect(request.relayState).toBe(new URL(v.external_verification_redirect_url).searchParams.get('state'))
  return { signIn, request, relayState: request.relayState! }
}

const respond = (c: any, o: Partial<LoginResponseOptions> & { nameId: string }, signer: TestIdp = idp) =>
  loginResponse(signer, { spEntityId: c.saml_sp_entity_id, acsUrl: c.saml_acs_url, ...o })

async function postAcs(b: Browser, c: any, samlResponse: string, relayState?: string, repost = false) {
  const form = new URLSearchParams({ SAMLResponse: samlResponse })
  if (relayState !== undefined) form.set('RelayState', relayState)
  if (repost) form.set('__authn_repost', '1')
  return b.call('POST', `/v1/saml/${c.id}/acs`, form.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    origin: 'https://idp.corp.test',
  })
}

/** A refusal: an HTML error page (no stack, no code list) and no session on the client. */
async function expectRefused(res: Response, b: Browser, text: string | RegExp, status = 400) {
  const body = await res.text()
  expect(`${res.status} ${res.headers.get('content-type')}`).toBe(`${status} text/html; charset=utf-8`)
  expect(body).toMatch(text)
  const client = ok(await b.json('GET', '/v1/client'))
  expect(client.response?.sessions ?? []).toEqual([])
}

describe('SP side', () => {
  it('serves SP metadata: entity id, ACS (HTTP-POST), and our certificate when requests are signed', async () => {
    const res = await h.fapi('GET', `/v1/saml/${conn.id}/metadata`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('application/samlmetadata+xml')
    const xml = await res.text()
    expect(xml).toContain(`entityID="${conn.saml_sp_entity_id}"`)
    expect(xml).toContain(`Location="${conn.saml_acs_url}"`)
    expect(xml).not.toContain('X509Certificate')
    const unknown = await h.fapi('GET', '/v1/saml/ec_01HZZZZZZZZZZZZZZZZZZZZZZZ/metadata')
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toStartWith('text/html')
  })
})

describe('signed AuthnRequests', () => {
  it('with an SP key, metadata publishes our certificate and samlify verifies the signed request', async () => {
    const d = `signed-${process.pid}.test`
    const strict = testIdp({ wantAuthnRequestsSigned: true })
    const c = await createConnection(
      { saml_signing_key: fixture('sp.key'), saml_signing_certificate: fixture('sp.crt') },
      d,
    )
    const metadata = await (await h.fapi('GET', `/v1/saml/${c.id}/metadata`)).text()
    expect(metadata).toContain('AuthnRequestsSigned="true"')
    const ours = fixture('sp.crt').replace(/-----[A-Z ]+-----|\s/g, '')
    expect(metadata.replace(/\s/g, '')).toContain(ours)
    const b = browser(h)
    const created = ok(
      await b.json('POST', '/v1/client/sign-ins', {
        strategy: 'enterprise_sso',
        identifier: `sig@${d}`,
        redirect_url: APP,
      }),
    ).response
    const hop = await b.call(
      'GET',
      pathOf(created.first_factor_verification.external_verification_redirect_url),
    )
    const location = hop.headers.get('location')!
    const url = new URL(location)
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')
    expect(url.searchParams.get('Signature')).toBeString()
    const parsed = await parseAuthnRequest(strict, c.saml_sp_entity_id, c.saml_acs_url, location, metadata)
    expect(parsed.issuer).toBe(c.saml_sp_entity_id)
    // The same request with another RelayState no longer verifies.
    url.searchParams.set('RelayState', 'tampered')
    await expect(
      parseAuthnRequest(strict, c.saml_sp_entity_id, c.saml_acs_url, url.href, metadata),
    ).rejects.toBeDefined()
  })
})

describe('signed SP metadata, checked by xmlsec1 (Debian)', () => {
  const xmlsec1 = Bun.which('xmlsec1')
  /** xmlsec1's own verdict on an enveloped signature over the EntityDescriptor, with our certificate. */
  function xmlsecVerify(xml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'sp-metadata-'))
    try {
      writeFileSync(join(dir, 'metadata.xml'), xml)
      writeFileSync(join(dir, 'sp.crt'), fixture('sp.crt'))
      const run = Bun.spawnSync([
        xmlsec1!,
        '--verify',
        '--pubkey-cert-pem',
        join(dir, 'sp.crt'),
        '--id-attr:ID',
        'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor',
        join(dir, 'metadata.xml'),
      ])
      return { ok: run.exitCode === 0, output: `${run.stdout}${run.stderr}` }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it.skipIf(!xmlsec1)(
    'a connection that signs requests signs its metadata; xmlsec1 verifies it and rejects a tampered copy',
    async () => {
      const d = `signed-meta-${process.pid}.test`
      const c = await createConnection(
        { saml_signing_key: fixture('sp.key'), saml_signing_certificate: fixture('sp.crt') },
        d,
      )
      const xml = await (await h.fapi('GET', `/v1/saml/${c.id}/metadata`)).text()
      expect(xml).toContain('Signature')
      expect(xml).toContain('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')
      const verdict = xmlsecVerify(xml)
      expect(verdict.output).toContain('OK')
      expect(verdict.ok).toBe(true)
      const tampered = xml.replace(c.saml_acs_url, 'https://evil.test/acs')
      expect(tampered).not.toBe(xml)
      expect(xmlsecVerify(tampered).ok).toBe(false)
      // Without a signing key there is nothing to sign with: the metadata is plain.
      const plain = await (await h.fapi('GET', `/v1/saml/${conn.id}/metadata`)).text()
      expect(plain).not.toContain('Signature')
    },
    60_000,
  )
})

describe('SP-initiated sign-in', () => {
  it('JIT: a new person signs in through the IdP; user, enterprise account and session are made', async () => {
    const b = browser(h)
    const who = email()
    const { signIn, request, relayState } = await startSignIn(b, who)
    const { base64 } = await respond(conn, {
      nameId: who,
      inResponseTo: request.id,
      attributes: { firstName: 'Ada', lastName: 'Lovelace' },
    })
    const res = await postAcs(b, conn, base64, relayState)
    expect(res.status).toBe(303)
    const back = new URL(res.headers.get('location')!)
    expect(back.origin + back.pathname).toBe(APP)
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const sid = back.searchParams.get('__authn_created_session')!
    expect(sid).toMatch(/^sess_/)
    const done = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(done.response).toMatchObject({ status: 'complete', created_session_id: sid })
    expect(done.client.last_authentication_strategy).toBe('enterprise_sso')
    const token = ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`))
    expect(token.jwt).toBeString()

    const userId = done.client.sessions[0].user.id
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace' })
    expect(user.email_addresses[0]).toMatchObject({
      email_address: who,
      verification: { status: 'verified', strategy: 'saml' },
    })
    const accounts = ok(await bapiJson(h, 'GET', `/v1/enterprise-accounts?user_id=${userId}`)).data
    expect(accounts).toHaveLength(1)
    expect(accounts[0]).toMatchObject({
      object: 'enterprise_account',
      enterprise_connection_id: conn.id,
      protocol: 'saml',
      provider_user_id: who,
      email_address: who,
      active: true,
    })
    expect(accounts[0].id).toMatch(/^entacc_/)
    expect((await events(h, 'user.created')).some((e) => e.data.id === userId)).toBe(true)
    expect((await events(h, 'enterpriseAccount.created')).some((e) => e.data.user_id === userId)).toBe(true)

    // The same response again: its request was used up.
    await expectRefused(
      await postAcs(browser(h), conn, base64, relayState, true),
      browser(h),
      /refused|invalid/,
    )
  })

  it('links an existing user with that verified email; next time the enterprise account is found', async () => {
    const who = email('grace')
    const existing = ok(await bapiJson(h, 'POST', '/v1/users', { email_address: [who], password: PASSWORD }))
    for (let i = 0; i < 2; i++) {
      const b = browser(h)
      const { request, relayState } = await startSignIn(b, who)
      const { base64 } = await respond(conn, {
        nameId: who,
        inResponseTo: request.id,
        sign: i ? 'response' : 'both',
      })
      const res = await postAcs(b, conn, base64, relayState)
      expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
      const client = ok(await b.json('GET', '/v1/client'))
      expect(client.response.sessions[0].user.id).toBe(existing.id)
    }
    const accounts = ok(await bapiJson(h, 'GET', `/v1/enterprise-accounts?user_id=${existing.id}`)).data
    expect(accounts).toHaveLength(1)
  })

  it('without the client cookie (a cross-site post), the form is posted again from our origin', async () => {
    const b = browser(h)
    const who = email()
    const { request, relayState } = await startSignIn(b, who)
    const { base64 } = await respond(conn, { nameId: who, inResponseTo: request.id })
    const cookie = b.cookie
    b.cookie = null
    const page = await postAcs(b, conn, base64, relayState)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'nonce-")
    const html = await page.text()
    expect(html).toContain(`action="/v1/saml/${conn.id}/acs"`)
    expect(html).toContain('name="__authn_repost" value="1"')
    b.cookie = cookie
    const res = await postAcs(b, conn, base64, relayState, true)
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
  })

  it('the response must come back to the browser that started the sign-in', async () => {
    const b = browser(h)
    const who = email()
    const { request, relayState } = await startSignIn(b, who)
    const { base64 } = await respond(conn, { nameId: who, inResponseTo: request.id })
    const elsewhere = browser(h)
    ok(await elsewhere.json('POST', '/v1/client'))
    const res = await postAcs(elsewhere, conn, base64, relayState)
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('client_mismatch')
  })
})

describe('attacks and bad input are refused, and change nothing', () => {
  type Variant = (who: string, requestId: string) => Promise<string>
  const cases: Array<[string, Variant, RegExp]> = [
    [
      'an unsigned response',
      async (who, id) =>
        unsignedResponse(idp, {
          spEntityId: conn.saml_sp_entity_id,
          acsUrl: conn.saml_acs_url,
          nameId: who,
          inResponseTo: id,
        }).base64,
      /signature/i,
    ],
    [
      'a signature by another key',
      async (who, id) =>
        (await respond(conn, { nameId: who, inResponseTo: id }, testIdp({ keyName: 'other' }))).base64,
      /signature/i,
    ],
    [
      'an assertion signed by a key we do not trust, response signed by another',
      async (who, id) =>
        (
          await respond(
            conn,
            { nameId: who, inResponseTo: id, sign: 'response' },
            testIdp({ keyName: 'idp2' }),
          )
        ).base64,
      /signature/i,
    ],
    [
      'signature wrapping: an evil unsigned assertion beside the signed one',
      async (who, id) => {
        const { xml } = await respond(conn, { nameId: who, inResponseTo: id })
        const signed = xml.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)![0]
        const evil = signed
          .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
          .replace(/ID="[^"]+"/, 'ID="_evil"')
          .replace(who, `mallory@${domain}`)
        return Buffer.from(xml.replace(signed, evil + signed)).toString('base64')
      },
      /assertion|signature/i,
    ],
    [
      'signature wrapping: the signed assertion moved into Extensions, an evil one in its place',
      async (who, id) => {
        const { xml } = await respond(conn, { nameId: who, inResponseTo: id })
        const signed = xml.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)![0]
        const evil = signed
          .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
          .replace(who, `mallory@${domain}`)
        const wrapped = xml
          .replace(signed, evil)
          .replace('<samlp:Status>', `<samlp:Extensions>${signed}</samlp:Extensions><samlp:Status>`)
        return Buffer.from(wrapped).toString('base64')
      },
      /signature|assertion/i,
    ],
    [
      'an expired assertion',
      async (who, id) =>
        (
          await respond(conn, {
            nameId: who,
            inResponseTo: id,
            notBeforeMs: -30 * 60_000,
            notOnOrAfterMs: -10 * 60_000,
          })
        ).base64,
      /expired|subject confirmation/i,
    ],
    [
      'a not-yet-valid assertion',
      async (who, id) =>
        (
          await respond(conn, {
            nameId: who,
            inResponseTo: id,
            notBeforeMs: 10 * 60_000,
            notOnOrAfterMs: 20 * 60_000,
          })
        ).base64,
      /not yet valid/i,
    ],
    [
      'a wrong audience',
      async (who, id) =>
        (await respond(conn, { nameId: who, inResponseTo: id, values: { Audience: 'https://evil.test/sp' } }))
          .base64,
      /audience/i,
    ],
    [
      'a wrong Destination',
      async (who, id) =>
        (
          await respond(conn, {
            nameId: who,
            inResponseTo: id,
            sign: 'both',
            values: { Destination: 'https://evil.test/acs' },
          })
        ).base64,
      /Destination/,
    ],
    [
      'a wrong Recipient',
      async (who, id) =>
        (
          await respond(conn, {
            nameId: who,
            inResponseTo: id,
            values: { SubjectRecipient: 'https://evil.test/acs' },
          })
        ).base64,
      /Recipient|subject confirmation/i,
    ],
    [
      'an unknown InResponseTo',
      async (who) => (await respond(conn, { nameId: who, inResponseTo: '_not_ours' })).base64,
      /InResponseTo/,
    ],
    [
      'another issuer signing with the trusted key',
      async (who, id) =>
        (await respond(conn, { nameId: who, inResponseTo: id, values: { Issuer: 'https://evil-idp.test' } }))
          .base64,
      /issued by another entity/,
    ],
    [
      'an email outside the connection domains',
      async (_who, id) => (await respond(conn, { nameId: 'eve@elsewhere.test', inResponseTo: id })).base64,
      /not in a domain of this connection/,
    ],
    [
      'XML with external entities',
      async (who, id) => {
        const { xml } = await respond(conn, { nameId: who, inResponseTo: id })
        return Buffer.from(
          `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}`,
        ).toString('base64')
      },
      /DTD/,
    ],
    [
      'XML with huge entity expansion',
      async (who, id) => {
        const { xml } = await respond(conn, { nameId: who, inResponseTo: id })
        const bomb =
          '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        return Buffer.from(bomb + xml.replace(who, '&c;')).toString('base64')
      },
      /DTD/,
    ],
  ]

  for (const [name, make, message] of cases) {
    it(name, async () => {
      const before = ok(await bapiJson(h, 'GET', '/v1/users?limit=1&include_total_count=true')).total_count
      const b = browser(h)
      const who = email('victim')
      const { signIn, request, relayState } = await startSignIn(b, who)
      await expectRefused(await postAcs(b, conn, await make(who, request.id), relayState), b, message)
      const after = ok(await bapiJson(h, 'GET', '/v1/users?limit=1&include_total_count=true')).total_count
      expect(after).toBe(before)
      const still = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
      expect(still.response.status).toBe('needs_first_factor')
      // The genuine response still works afterwards: a forgery burns nothing.
      const { base64 } = await respond(conn, { nameId: who, inResponseTo: request.id })
      const res = await postAcs(b, conn, base64, relayState)
      expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
    })
  }

  it('a response replayed into another sign-in is refused', async () => {
    const b = browser(h)
    const who = email()
    const first = await startSignIn(b, who)
    const { base64 } = await respond(conn, { nameId: who, inResponseTo: first.request.id })
    const other = browser(h)
    const second = await startSignIn(other, who)
    await expectRefused(await postAcs(other, conn, base64, second.relayState), other, /InResponseTo/)
  })

  it('IdP-initiated when the connection does not allow it', async () => {
    const b = browser(h)
    ok(await b.json('POST', '/v1/client'))
    const { base64 } = await respond(conn, { nameId: email() })
    await expectRefused(
      await postAcs(b, conn, base64),
      b,
      /does not accept sign-ins started at the identity provider/,
    )
    await expectRefused(
      await postAcs(b, conn, base64, APP),
      b,
      /does not accept sign-ins started at the identity provider/,
    )
  })

  it('an email domain that is not routed offers no enterprise sign-in', async () => {
    const b = browser(h)
    const r = await b.json('POST', '/v1/client/sign-ins', {
      strategy: 'enterprise_sso',
      identifier: 'nobody@not-routed.test',
      redirect_url: APP,
    })
    expect(r.status).toBe(422)
    expect(r.body.errors[0].code).toBe('form_identifier_not_found')
  })

  it('a deleted connection stops sign-ins at once and keeps its enterprise accounts', async () => {
    const d = `gone-${process.pid}.test`
    const c = await createConnection({}, d)
    const b = browser(h)
    const who = `ada@${d}`
    const { request, relayState } = await startSignIn(b, who, c)
    const { base64 } = await respond(c, { nameId: who, inResponseTo: request.id })
    ok(await bapiJson(h, 'DELETE', `/v1/enterprise-connections/${c.id}`))
    await expectRefused(await postAcs(b, c, base64, relayState), b, /no longer active/, 404)
    const r = await b.json('POST', '/v1/client/sign-ins', {
      strategy: 'enterprise_sso',
      identifier: who,
      redirect_url: APP,
    })
    expect(r.status).toBe(422)
  })
})

describe('IdP-initiated sign-in, where allowed', () => {
  it('signs the browser in, sends it to an allowed RelayState, and refuses a replay', async () => {
    const d = `idpinit-${process.pid}.test`
    const c = await createConnection({ allow_idp_initiated: true }, d)
    const b = browser(h)
    ok(await b.json('POST', '/v1/client'))
    const who = `lin@${d}`
    const { base64 } = await respond(c, { nameId: who })
    const res = await postAcs(b, c, base64, APP)
    expect(res.status).toBe(303)
    const back = new URL(res.headers.get('location')!)
    expect(back.origin + back.pathname).toBe(APP)
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const client = ok(await b.json('GET', '/v1/client'))
    expect(client.response.sessions[0].user.email_addresses[0].email_address).toBe(who)
    const again = browser(h)
    ok(await again.json('POST', '/v1/client'))
    await expectRefused(await postAcs(again, c, base64, APP), again, /used already/)
    // An untrusted RelayState is not followed.
    const other = browser(h)
    ok(await other.json('POST', '/v1/client'))
    const fresh = await respond(c, { nameId: who })
    const elsewhere = await postAcs(other, c, fresh.base64, 'https://evil.test/phish')
    expect(new URL(elsewhere.headers.get('location')!).origin).toBe(`https://${h.env.host}`)
  })
})

describe('org-scoped connections', () => {
  it('JIT puts the user in the organization with the default role; the session token gets its o claim', async () => {
    ok(
      await bapiJson(h, 'PATCH', '/v1/instance', { organizations: { enabled: true, domains_enabled: true } }),
    )
    const org = ok(await bapiJson(h, 'POST', '/v1/organizations', { name: 'Initech' }))
    const d = `initech-${process.pid}.test`
    // An org-scoped connection routes only a domain the organization has verified.
    ok(await bapiJson(h, 'POST', `/v1/organizations/${org.id}/domains`, { name: d, verified: true }))
    const c = await createConnection({ organization_id: org.id }, d)
    expect(c.organization_id).toBe(org.id)
    const b = browser(h)
    const who = `peter@${d}`
    const { request, relayState } = await startSignIn(b, who, c)
    const { base64 } = await respond(c, { nameId: who, inResponseTo: request.id })
    const res = await postAcs(b, c, base64, relayState)
    const sid = new URL(res.headers.get('location')!).searchParams.get('__authn_created_session')!
    const client = ok(await b.json('GET', '/v1/client'))
    const userId = client.response.sessions[0].user.id
    const memberships = ok(await bapiJson(h, 'GET', `/v1/organizations/${org.id}/memberships`)).data
    expect(memberships.map((m: any) => [m.public_user_data.user_id, m.role])).toEqual([
      [userId, 'org:member'],
    ])
    // The user resource carries the enterprise account.
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user.enterprise_accounts).toHaveLength(1)
    expect(user.enterprise_accounts[0]).toMatchObject({
      enterprise_connection_id: c.id,
      provider_user_id: who,
    })
    // With the organization active, the session token names it.
    const { jwt } = ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`, { organization_id: org.id }))
    const jwks = (await (await h.fapi('GET', '/.well-known/jwks.json')).json()) as JSONWebKeySet
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks))
    expect(payload).toMatchObject({ sub: userId, sid, o: { id: org.id, rol: 'member' } })

    // Unlinking keeps the user and the audit row; the identity then links again on its next sign-in.
    const account = user.enterprise_accounts[0]
    ok(await bapiJson(h, 'DELETE', `/v1/enterprise-accounts/${account.id}`))
    const after = ok(await bapiJson(h, 'GET', `/v1/enterprise-accounts/${account.id}`))
    expect(after).toMatchObject({ active: false, user_id: userId })
    expect(after.unlinked_at).toBeNumber()
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${userId}`)).enterprise_accounts).toEqual([])
  })
})

describe('identifier-first routing and "Enforce SSO"', () => {
  /** The challenge's external URL → our start hop → samlify → the ACS; returns the signed-in user id. */
  async function finishThroughIdp(b: Browser, c: any, challenge: any, who: string) {
    const hop = await b.call('GET', pathOf(challenge.external_verification_redirect_url))
    expect(hop.status).toBe(303)
    const request = await parseAuthnRequest(
      idp,
      c.saml_sp_entity_id,
      c.saml_acs_url,
      hop.headers.get('location')!,
    )
    const { base64 } = await respond(c, { nameId: who, inResponseTo: request.id })
    const res = await postAcs(b, c, base64, request.relayState!)
    expect(new URL(res.headers.get('location')!).searchParams.get('__authn_status')).toBe('verified')
    return ok(await b.json('GET', '/v1/client')).response.sessions[0].user.id as string
  }

  it('an identifier alone of a routed domain, with no user yet, is offered enterprise_sso (JIT)', async () => {
    const b = browser(h)
    const who = email('jit')
    const created = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: who })).response
    expect(created.status).toBe('needs_first_factor')
    expect(created.supported_first_factors).toEqual([{ strategy: 'enterprise_sso', safe_identifier: who }])
    const challenge = ok(
      await b.json('POST', `/v1/client/sign-ins/${created.id}/challenges`, {
        strategy: 'enterprise_sso',
        redirect_url: APP,
      }),
    ).response
    const userId = await finishThroughIdp(b, conn, challenge, who)
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${userId}`)).email_addresses[0].email_address).toBe(who)
    expect(ok(await b.json('GET', `/v1/client/sign-ins/${created.id}`)).response.status).toBe('complete')
  })

  it('other domains still answer form_identifier_not_found (nothing leaks about them)', async () => {
    const b = browser(h)
    expectError(
      await b.json('POST', '/v1/client/sign-ins', {
        identifier: `nobody${++seq}@elsewhere-${process.pid}.test`,
      }),
      422,
      'form_identifier_not_found',
    )
  })

  it('enforced (the default): password and every other first factor are hidden and refused', async () => {
    expect(conn.enforce_sso).toBe(true)
    const who = email('pw')
    ok(await bapiJson(h, 'POST', '/v1/users', { email_address: [who], password: PASSWORD }))
    const b = browser(h)
    const created = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: who })).response
    expect(created.supported_first_factors.map((f: any) => f.strategy)).toEqual(['enterprise_sso'])
    // A direct password attempt: refused, both for the known user and an unknown address.
    for (const identifier of [who, email('ghost')]) {
      expectError(
        await browser(h).json('POST', '/v1/client/sign-ins', { identifier, password: PASSWORD }),
        422,
        'strategy_for_user_invalid',
        'strategy',
      )
    }
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${created.id}/challenges/password/answer`, {
        password: PASSWORD,
      }),
      422,
      'strategy_for_user_invalid',
    )
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${created.id}/challenges`, { strategy: 'email_code' }),
      422,
      'strategy_for_user_invalid',
    )
    expect(ok(await b.json('GET', '/v1/client')).response.sessions).toEqual([])
  })

  it('not enforced: SSO is offered beside the password, which works', async () => {
    const d = `optional-${process.pid}.test`
    const c = await createConnection({ enforce_sso: false }, d)
    expect(c.enforce_sso).toBe(false)
    const who = `opt${++seq}@${d}`
    const user = ok(await bapiJson(h, 'POST', '/v1/users', { email_address: [who], password: PASSWORD }))
    const b = browser(h)
    const created = ok(await b.json('POST', '/v1/client/sign-ins', { identifier: who })).response
    const strategies = created.supported_first_factors.map((f: any) => f.strategy)
    expect(strategies).toContain('enterprise_sso')
    expect(strategies).toContain('password')
    const done = ok(
      await b.json('POST', `/v1/client/sign-ins/${created.id}/challenges/password/answer`, {
        password: PASSWORD,
      }),
    ).response
    expect(done.status).toBe('complete')
    // Turned on: the password is refused from then on.
    const on = ok(await bapiJson(h, 'PATCH', `/v1/enterprise-connections/${c.id}`, { enforce_sso: true }))
    expect(on.enforce_sso).toBe(true)
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ins', { identifier: who, password: PASSWORD }),
      422,
      'strategy_for_user_invalid',
    )
    // SSO itself still signs the same user in.
    const sso = browser(h)
    const again = ok(await sso.json('POST', '/v1/client/sign-ins', { identifier: who })).response
    const challenge = ok(
      await sso.json('POST', `/v1/client/sign-ins/${again.id}/challenges`, {
        strategy: 'enterprise_sso',
        redirect_url: APP,
      }),
    ).response
    expect(await finishThroughIdp(sso, c, challenge, who)).toBe(user.id)
  })
})
