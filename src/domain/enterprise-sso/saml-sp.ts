import { type CacheProvider, type Profile, SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import { and, eq, lt } from 'drizzle-orm'
import { parseStringPromise, processors } from 'xml2js'
import { withTx } from '../../db/tx'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { routesEmail, signingKeyOf } from './connections'
import { ssoVerificationFailed } from './errors'
import { hasDoctype, isCurrentlyValid, parseCertificate } from './idp-config'
import { type EnterpriseConnectionRow, samlAssertionIds, samlRequests } from './schema'
import { samlSpUrls } from './serialize'

/**
 * Our SAML 2.0 service provider, built on @node-saml/node-saml (one instance per request, from
 * the connection row), plus the checks node-saml leaves to its caller (reference/
 * enterprise-sso.md §0, §3): Destination and Recipient equal to our ACS URL, the assertion's
 * Issuer equal to the IdP's entity id, InResponseTo bound to the sign-in that sent the request,
 * and a replay cache of assertion ids until NotOnOrAfter.
 */

export const CLOCK_SKEW_MS = 2 * 60_000
/** An assertion older than this (from its IssueInstant) is refused even if NotOnOrAfter allows it. */
export const MAX_ASSERTION_AGE_MS = 5 * 60_000
/** How long an AuthnRequest we sent may be answered. */
export const REQUEST_TTL_MS = 10 * 60_000
const MAX_RESPONSE_CHARS = 400_000
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'

/** The IdP certificates that may verify a signature now (neither node-saml nor xml-crypto checks dates). */
export function trustedCertificates(row: EnterpriseConnectionRow, now: number): string[] {
  return row.samlIdpCertificates.filter((pem) => {
    const info = parseCertificate(pem)
    return info !== null && isCurrentlyValid(info, now)
  })
}

/** Request ids node-saml saves while building an AuthnRequest, and the rows it may look up. */
function requestCache(ctx: EnvContext, row: EnterpriseConnectionRow, saved: string[]): CacheProvider {
  return {
    async saveAsync(key, value) {
      saved.push(key)
      return { value, createdAt: Date.now() }
    },
    async getAsync(key) {
      const hit = ctx.db
        .select()
        .from(samlRequests)
        .where(and(eq(samlRequests.id, key), eq(samlRequests.connectionId, row.id)))
        .get()
      return hit && hit.expiresAt > ctx.clock.now() ? hit.issuedAt : null
    },
    // Consumed in our own transaction (consumeResponse), once, with the assertion id.
    async removeAsync(key) {
      return key
    },
  }
}

function samlOf(ctx: EnvContext, row: EnterpriseConnectionRow, saved: string[] = []) {
  const sp = samlSpUrls(ctx.frontendUrl(), row.id)
  const certs = trustedCertificates(row, ctx.clock.now())
  if (!certs.length) throw ssoVerificationFailed('This connection has no currently valid IdP certificate.')
  const key = signingKeyOf(ctx, row)
  return new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    audience: sp.entityId,
    entryPoint: row.samlIdpSsoUrl ?? undefined,
    idpIssuer: row.samlIdpEntityId ?? undefined,
    idpCert: certs,
    wantAuthnResponseSigned: row.samlWantResponseSigned,
    wantAssertionsSigned: row.samlWantAssertionsSigned,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    maxAssertionAgeMs: MAX_ASSERTION_AGE_MS,
    validateInResponseTo: row.allowIdpInitiated
      ? ValidateInResponseTo.ifPresent
      : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider: requestCache(ctx, row, saved),
    identifierFormat: EMAIL_FORMAT,
    disableRequestedAuthnContext: true,
    ...(key ? { privateKey: key, signatureAlgorithm: 'sha256' as const } : {}),
  })
}

/**
 * `GET /v1/saml/{id}/metadata`: our entity, ACS (HTTP-POST) and, when requests are signed, our
 * certificate; the document itself is then signed with the same key (enveloped XML-DSig over
 * the EntityDescriptor, RSA-SHA256), so an IdP can check where it came from.
 */
export function spMetadata(ctx: EnvContext, row: EnterpriseConnectionRow): string {
  const sp = samlSpUrls(ctx.frontendUrl(), row.id)
  // Metadata must be served even before the IdP certificate is configured.
  const saml = new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: 'unused',
    identifierFormat: EMAIL_FORMAT,
    wantAssertionsSigned: row.samlWantAssertionsSigned,
    ...(row.samlSigningKey
      ? {
          privateKey: signingKeyOf(ctx, row)!,
          signMetadata: true,
          signatureAlgorithm: 'sha256' as const,
          digestAlgorithm: 'sha256' as const,
        }
      : {}),
  })
  return saml.generateServiceProviderMetadata(null, row.samlSigningCertificate)
}

/**
 * The IdP URL for an SP-initiated sign-in (HTTP-Redirect binding, signed when we hold a key):
 * `RelayState` is the sign-in's opaque state; the request id is remembered for this challenge.
 */
export async function authnRequestUrl(
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  challengeId: string,
  relayState: string,
): Promise<string> {
  const saved: string[] = []
  const url = await samlOf(ctx, row, saved).getAuthorizeUrlAsync(relayState, undefined, {})
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.delete(samlRequests).where(lt(samlRequests.expiresAt, now)).run()
    for (const id of saved)
      tx.insert(samlRequests)
        .values({
          id,
          connectionId: row.id,
          challengeId,
          issuedAt: new Date().toISOString(),
          expiresAt: now + REQUEST_TTL_MS,
        })
        .run()
  })
  return url
}

/** Who the IdP says signed in, taken only from the signed assertion. */
export interface SamlIdentity {
  subject: string
  emailAddress: string
  firstName: string | null
  lastName: string | null
}

type XNode = { $?: Record<string, string>; _?: string; [child: string]: unknown }
const kids = (n: XNode | undefined, name: string): XNode[] =>
  n && Array.isArray(n[name]) ? (n[name] as XNode[]) : []

const parseXml = (xml: string) =>
  parseStringPromise(xml, { tagNameProcessors: [processors.stripPrefix] }) as Promise<Record<string, XNode>>

const FALLBACKS = {
  email_address: [
    'email',
    'mail',
    'emailAddress',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  ],
  first_name: [
    'firstName',
    'givenName',
    'given_name',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  ],
  last_name: [
    'lastName',
    'surname',
    'sn',
    'family_name',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  ],
} as const

function attribute(
  profile: Profile,
  mapped: string | undefined,
  fallbacks: readonly string[],
): string | null {
  const attrs = (profile.attributes ?? {}) as Record<string, unknown>
  for (const name of mapped ? [mapped] : fallbacks) {
    const v = attrs[name]
    const first = Array.isArray(v) ? v[0] : v
    if (typeof first === 'string' && first.trim()) return first.trim()
  }
  return null
}

export interface ValidatedResponse {
  identity: SamlIdentity
  assertionId: string
  expiresAt: number
  /** The request this answers (null: IdP-initiated). */
  requestId: string | null
}

/**
 * Validates a `SAMLResponse` for the connection: node-saml's checks (signature by a currently
 * valid trusted certificate over the assertion, status, time conditions with skew, audience,
 * InResponseTo known), then ours. Nothing is written here: consumeResponse uses it up.
 */
export async function validateResponse(
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  samlResponse: string,
): Promise<ValidatedResponse> {
  const refuse = (why: string) => ssoVerificationFailed(`The identity provider's answer was refused: ${why}.`)
  if (samlResponse.length > MAX_RESPONSE_CHARS) throw refuse('it is too large')
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8')
  if (!xml.includes('<')) throw refuse('it is not a SAML response')
  // No DTDs at all: external entities and entity expansion are refused before any parser runs.
  if (hasDoctype(xml)) throw refuse('it declares a DTD')
  const sp = samlSpUrls(ctx.frontendUrl(), row.id)
  let profile: Profile | null
  try {
    profile = (await samlOf(ctx, row).validatePostResponseAsync({ SAMLResponse: samlResponse })).profile
  } catch (e) {
    throw refuse(e instanceof Error ? e.message.replace(/\.$/, '') : 'invalid response')
  }
  if (!profile) throw refuse('it carries no assertion')
  // Check 8: the assertion's Issuer is the IdP this connection trusts.
  if (profile.issuer !== row.samlIdpEntityId) throw refuse('the assertion was issued by another entity')
  // Everything below is read from the signed assertion only.
  const doc = await parseXml(profile.getAssertionXml?.() ?? '')
  const assertion = doc?.Assertion
  const assertionId = assertion?.$?.ID
  if (!assertion || !assertionId) throw refuse('the assertion has no ID')
  const subject = kids(assertion, 'Subject')[0]
  // Check 9: a bearer confirmation addressed to our ACS URL.
  const confirmations = kids(subject, 'SubjectConfirmation').filter((c) => c.$?.Method === BEARER)
  const data = confirmations.flatMap((c) => kids(c, 'SubjectConfirmationData'))
  const ours = data.find((d) => d.$?.Recipient === sp.acsUrl)
  if (!ours) throw refuse('the assertion is not addressed to this service provider (Recipient)')
  // Check 10: Response/@Destination, when present, is our ACS URL.
  const response = (await parseXml(profile.getSamlResponseXml?.() ?? ''))?.Response
  const destination = response?.$?.Destination
  if (destination && destination !== sp.acsUrl)
    throw refuse('the response is not addressed to this service provider (Destination)')
  const signedInResponseTo = ours.$?.InResponseTo || null
  const responseInResponseTo = response?.$?.InResponseTo || null
  if (signedInResponseTo && responseInResponseTo && signedInResponseTo !== responseInResponseTo)
    throw refuse('InResponseTo does not match')
  const requestId = signedInResponseTo ?? responseInResponseTo
  if (!requestId && !row.allowIdpInitiated)
    throw refuse('this connection does not accept sign-ins started at the identity provider')
  const notOnOrAfter = Date.parse(ours.$?.NotOnOrAfter ?? '') || Date.now() + MAX_ASSERTION_AGE_MS
  const nameId = profile.nameID
  if (!nameId) throw refuse('the assertion has no NameID')
  const map = row.attributeMapping
  const subjectId = map.user_id ? attribute(profile, map.user_id, []) : nameId
  const email =
    attribute(profile, map.email_address, FALLBACKS.email_address) ??
    (profile.nameIDFormat === EMAIL_FORMAT || nameId.includes('@') ? nameId : null)
  if (!subjectId) throw refuse('the mapped user id attribute is missing')
  if (!email?.includes('@')) throw refuse('the assertion carries no email address')
  // Check 13: one tenant's IdP may not assert another tenant's users.
  if (!routesEmail(row, email)) throw refuse(`${email} is not in a domain of this connection`)
  return {
    identity: {
      subject: subjectId,
      emailAddress: email.toLowerCase(),
      firstName: attribute(profile, map.first_name, FALLBACKS.first_name),
      lastName: attribute(profile, map.last_name, FALLBACKS.last_name),
    },
    assertionId,
    expiresAt: Math.max(notOnOrAfter, Date.now()) + CLOCK_SKEW_MS,
    requestId,
  }
}

/**
 * Uses a validated response up, in the caller's transaction: its AuthnRequest (which must be
 * this challenge's) is consumed, and its assertion id enters the replay cache until it expires.
 * Returns an error message when either was used already.
 */
export function consumeResponse(
  tx: EnvTx,
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
  v: ValidatedResponse,
  challengeId: string | null,
): string | null {
  const now = ctx.clock.now()
  if (challengeId) {
    if (!v.requestId) return 'an unsolicited response cannot complete this sign-in'
    const consumed = tx
      .delete(samlRequests)
      .where(
        and(
          eq(samlRequests.id, v.requestId),
          eq(samlRequests.connectionId, row.id),
          eq(samlRequests.challengeId, challengeId),
        ),
      )
      .returning()
      .all()
    if (!consumed.length) return 'InResponseTo does not name a request of this sign-in'
  } else if (v.requestId) {
    return 'a response to a request cannot start a sign-in by itself'
  }
  tx.delete(samlAssertionIds).where(lt(samlAssertionIds.expiresAt, now)).run()
  const seen = tx
    .select()
    .from(samlAssertionIds)
    .where(and(eq(samlAssertionIds.connectionId, row.id), eq(samlAssertionIds.assertionId, v.assertionId)))
    .get()
  if (seen) return 'this assertion was used already'
  tx.insert(samlAssertionIds)
    .values({ connectionId: row.id, assertionId: v.assertionId, expiresAt: v.expiresAt })
    .run()
  return null
}
