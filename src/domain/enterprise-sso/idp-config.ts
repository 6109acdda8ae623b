import { createHash, X509Certificate } from 'node:crypto'
import { parseStringPromise, processors } from 'xml2js'
import { literalRefusal } from '../../lib/private-network'
import type { EnvContext } from '../../tenancy/context'
import { connectionParamInvalid, fetchFailed } from './errors'

/**
 * Reading what an IdP publishes about itself: SAML metadata (entity id, SSO URL, signing
 * certificates) and X.509 certificates, with the outbound-fetch rules of the test probe
 * (time-boxed, http(s) only, no private or loopback addresses outside development envs).
 */

export const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'
export const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'

/** Cheap guard before any XML parser: no DTDs, so no external entities and no entity expansion. */
export const hasDoctype = (xml: string) => /<!DOCTYPE|<!ENTITY/i.test(xml)

export interface CertificateInfo {
  pem: string
  fingerprint_sha256: string
  subject: string
  not_before: number
  not_after: number
}

/** A PEM certificate or its bare base64 body, as PEM; null when it does not parse. */
export function parseCertificate(raw: string): CertificateInfo | null {
  const body = raw.replace(/-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----/g, '').replace(/\s+/g, '')
  if (!body || !/^[A-Za-z0-9+/=]+$/.test(body)) return null
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`
  try {
    const x = new X509Certificate(pem)
    return {
      pem,
      fingerprint_sha256: createHash('sha256').update(x.raw).digest('hex'),
      subject: x.subject.replace(/\n/g, ', '),
      not_before: Date.parse(x.validFrom),
      not_after: Date.parse(x.validTo),
    }
  } catch {
    return null
  }
}

export function requireCertificates(raws: readonly string[], param: string): string[] {
  const out: string[] = []
  for (const raw of raws) {
    const info = parseCertificate(raw)
    if (!info) throw connectionParamInvalid(param, `${param} must hold PEM X.509 certificates.`)
    if (!out.includes(info.pem)) out.push(info.pem)
  }
  return out
}

export const isCurrentlyValid = (c: CertificateInfo, now: number) => c.not_before <= now && now < c.not_after

export interface IdpMetadata {
  entityId: string
  ssoUrl: string | null
  certificates: string[]
}

type Node = { $?: Record<string, string>; _?: string; [child: string]: unknown }
const children = (n: Node | undefined, name: string): Node[] =>
  n && Array.isArray(n[name]) ? (n[name] as Node[]) : []
const textOf = (n: Node | string) => (typeof n === 'string' ? n : (n._ ?? ''))

/**
 * The IdP's EntityDescriptor: entity id, its redirect-binding SSO URL and signing certificates.
 * Namespace prefixes are dropped (metadata is read for configuration, never to check a
 * signature); a DTD is refused before parsing.
 */
export async function parseIdpMetadata(xml: string, param = 'saml_idp_metadata'): Promise<IdpMetadata> {
  const invalid = (why: string) => connectionParamInvalid(param, `The IdP metadata is not usable: ${why}.`)
  if (hasDoctype(xml)) throw invalid('it declares a DTD or entities')
  let doc: Record<string, Node>
  try {
    doc = await parseStringPromise(xml, {
      tagNameProcessors: [processors.stripPrefix],
      explicitRoot: true,
      explicitArray: true,
    })
  } catch {
    throw invalid('it is not well-formed XML')
  }
  const root = doc?.EntityDescriptor ?? children(doc?.EntitiesDescriptor, 'EntityDescriptor')[0]
  if (!root) throw invalid('no EntityDescriptor')
  const entityId = root.$?.entityID
  if (!entityId) throw invalid('the EntityDescriptor has no entityID')
  const idp = children(root, 'IDPSSODescriptor')[0]
  if (!idp) throw invalid('no IDPSSODescriptor')
  const redirect = children(idp, 'SingleSignOnService').find((s) => s.$?.Binding === REDIRECT_BINDING)
  const certificates: string[] = []
  for (const kd of children(idp, 'KeyDescriptor')) {
    if (kd.$?.use && kd.$.use !== 'signing') continue
    for (const info of children(kd, 'KeyInfo'))
      for (const data of children(info, 'X509Data'))
        for (const c of (data.X509Certificate as (Node | string)[] | undefined) ?? []) {
          const parsed = parseCertificate(textOf(c))
          if (parsed && !certificates.includes(parsed.pem)) certificates.push(parsed.pem)
        }
  }
  if (!certificates.length) throw invalid('no signing certificate')
  return { entityId, ssoUrl: redirect?.$?.Location ?? null, certificates }
}

/** Outbound URLs an admin configures: absolute http(s), no credentials, no private literals in production. */
export function checkOutboundUrl(ctx: EnvContext, raw: string, param: string): URL {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw connectionParamInvalid(param, `${param} must be an absolute https URL.`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ctx.type === 'development'))
    throw connectionParamInvalid(param, `${param} must be an absolute https URL.`)
  if (url.username || url.password)
    throw connectionParamInvalid(param, `${param} must not contain credentials.`)
  if (ctx.type === 'production') {
    const refusal = literalRefusal(url.hostname)
    if (refusal) throw connectionParamInvalid(param, `${param} may not point at ${refusal}.`)
  }
  return url
}

export const FETCH_TIMEOUT_MS = 5000
const MAX_DOCUMENT_BYTES = 512 * 1024

/** GETs a small document with a time box; a clear 422 naming the parameter when that fails. */
export async function fetchDocument(url: URL, param: string, what: string): Promise<string> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' })
  } catch (e) {
    throw fetchFailed(
      param,
      what,
      e instanceof Error && e.name === 'TimeoutError' ? 'timed out' : 'unreachable',
    )
  }
  if (!res.ok) throw fetchFailed(param, what, `HTTP ${res.status}`)
  const text = await res.text()
  if (text.length > MAX_DOCUMENT_BYTES) throw fetchFailed(param, what, 'too large')
  return text
}
