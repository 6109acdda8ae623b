import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * samlify as a real SAML 2.0 IdP for our SP (reference/enterprise-sso.md §6): its own keys, its
 * own metadata, it parses our redirect-binding AuthnRequest and signs its login responses. The
 * response templates are filled by our own replacer (samlify's escapes values), so tests can
 * build hostile variants from real signed output.
 */

// samlify's type declarations pull the DOM lib into the whole program (Headers without its
// iterators), so it is loaded untyped.
const samlify: any = require('samlify')

// A schema validator is mandatory in samlify; the SP under test parses with its own rules.
samlify.setSchemaValidator({ validate: async () => 'skipped' })

const FIXTURES = join(import.meta.dir, '../fixtures/saml')
export const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')

export const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'
export const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'

export interface TestIdp {
  entityId: string
  ssoUrl: string
  cert: string
  idp: any
  metadata(): string
}

export function testIdp(opts: { entityId?: string; ssoUrl?: string; keyName?: string } = {}): TestIdp {
  const keyName = opts.keyName ?? 'idp'
  const entityId = opts.entityId ?? 'https://idp.corp.test/saml'
  const ssoUrl = opts.ssoUrl ?? 'https://idp.corp.test/sso'
  const cert = fixture(`${keyName}.crt`)
  const idp = samlify.IdentityProvider({
    entityID: entityId,
    signingCert: cert,
    privateKey: fixture(`${keyName}.key`),
    nameIDFormat: [EMAIL_FORMAT],
    singleSignOnService: [
      { Binding: REDIRECT, Location: ssoUrl },
      { Binding: POST, Location: ssoUrl },
    ],
  })
  return { entityId, ssoUrl, cert, idp, metadata: () => idp.getMetadata() }
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)

export interface LoginResponseOptions {
  /** Our SP: its entity id and ACS URL (from the connection resource). */
  spEntityId: string
  acsUrl: string
  nameId: string
  inResponseTo?: string
  attributes?: Record<string, string>
  /** What samlify signs: the assertion, the whole Response, or both. */
  sign?: 'assertion' | 'response' | 'both'
  /** Template values to override (Destination, SubjectRecipient, Audience, Issuer, times, …). */
  values?: Record<string, string>
  /** Validity window from now, in ms (negative start: already valid). */
  notBeforeMs?: number
  notOnOrAfterMs?: number
}

/** The template values of a login response, as samlify computes them, ours to override. */
function templateValues(idp: TestIdp, o: LoginResponseOptions) {
  const now = Date.now()
  const iso = (ms: number) => new Date(ms).toISOString()
  const attrs = Object.entries(o.attributes ?? {})
  return {
    ID: `_resp${crypto.randomUUID().replace(/-/g, '')}`,
    AssertionID: `_asrt${crypto.randomUUID().replace(/-/g, '')}`,
    Destination: o.acsUrl,
    Audience: o.spEntityId,
    SubjectRecipient: o.acsUrl,
    Issuer: idp.entityId,
    IssueInstant: iso(now),
    StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
    ConditionsNotBefore: iso(now + (o.notBeforeMs ?? -60_000)),
    ConditionsNotOnOrAfter: iso(now + (o.notOnOrAfterMs ?? 5 * 60_000)),
    SubjectConfirmationDataNotOnOrAfter: iso(now + (o.notOnOrAfterMs ?? 5 * 60_000)),
    NameIDFormat: EMAIL_FORMAT,
    NameID: escapeXml(o.nameId),
    InResponseTo: o.inResponseTo ?? '',
    AuthnStatement: `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_sess1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
    AttributeStatement: attrs.length
      ? `<saml:AttributeStatement>${attrs
          .map(
            ([name, value]) =>
              `<saml:Attribute Name="${escapeXml(name)}"><saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue></saml:Attribute>`,
          )
          .join('')}</saml:AttributeStatement>`
      : '',
    ...o.values,
  } as Record<string, string>
}

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '')

/** A samlify SP description of our SP, with the signing the test wants. */
function spFor(o: LoginResponseOptions) {
  const sign = o.sign ?? 'assertion'
  return samlify.ServiceProvider({
    entityID: o.spEntityId,
    assertionConsumerService: [{ Binding: POST, Location: o.acsUrl }],
    wantAssertionsSigned: sign !== 'response',
    wantMessageSigned: sign !== 'assertion',
  })
}

/** A signed login response from samlify: base64 `SAMLResponse` and the decoded XML. */
export async function loginResponse(idp: TestIdp, o: LoginResponseOptions) {
  const values = templateValues(idp, o)
  const out = await idp.idp.createLoginResponse(
    spFor(o),
    { extract: { request: { id: o.inResponseTo ?? '' } } } as never,
    'post',
    { email: o.nameId },
    (template: string) => ({ id: values.ID!, context: fill(template, values) }),
  )
  const base64 = (out as { context: string }).context
  return { base64, xml: Buffer.from(base64, 'base64').toString('utf8'), values }
}

/** The same response without any signature (the template filled, nothing signed). */
export function unsignedResponse(idp: TestIdp, o: LoginResponseOptions) {
  const values = templateValues(idp, o)
  const xml = fill(samlify.SamlLib.defaultLoginResponseTemplate.context, values)
  return { base64: Buffer.from(xml).toString('base64'), xml, values }
}

/** samlify parses our redirect-binding AuthnRequest as the IdP would: its id and RelayState. */
export async function parseAuthnRequest(idp: TestIdp, spEntityId: string, acsUrl: string, redirect: string) {
  const url = new URL(redirect)
  const query = Object.fromEntries(url.searchParams)
  const octetString = url.search
    .slice(1)
    .split('&')
    .filter((p) => !p.startsWith('Signature='))
    .join('&')
  const sp = samlify.ServiceProvider({
    entityID: spEntityId,
    assertionConsumerService: [{ Binding: POST, Location: acsUrl }],
  })
  const parsed = await idp.idp.parseLoginRequest(sp, 'redirect', { query, octetString } as never)
  return {
    id: parsed.extract.request.id as string,
    issuer: parsed.extract.issuer as string,
    acs: parsed.extract.request.assertionConsumerServiceUrl as string,
    relayState: query.RelayState ?? null,
    xml: parsed.samlContent as string,
  }
}
