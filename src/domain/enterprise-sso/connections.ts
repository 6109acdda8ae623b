import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { and, eq, inArray, isNull, ne } from 'drizzle-orm'
import { seal, unseal } from '../../crypto/seal'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { assertThat, formError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { verifiedDomainNames } from '../organizations/domains'
import { findOrganization } from '../organizations/service'
import { connectionParamInvalid, domainNotVerified, domainTaken } from './errors'
import {
  checkOutboundUrl,
  fetchDocument,
  type IdpMetadata,
  parseIdpMetadata,
  requireCertificates,
} from './idp-config'
import type {
  CreateEnterpriseConnectionBody,
  EnterpriseConnectionResource,
  ListEnterpriseConnectionsQuery,
  UpdateEnterpriseConnectionBody,
} from './model'
import { discoverIssuer } from './oidc-discovery'
import { type EnterpriseConnectionRow, enterpriseConnectionDomains, enterpriseConnections } from './schema'
import { toConnectionResource } from './serialize'

type Db = EnvContext['db'] | EnvTx

export const signingKeyAad = (id: string) => `enterprise_connections.saml_signing_key:${id}`
export const clientSecretAad = (id: string) => `enterprise_connections.oidc_client_secret:${id}`

const HOST = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Lower-case, trailing dot dropped, a real host name; duplicates folded. */
export function normalizeDomains(raw: readonly string[]): string[] {
  const out: string[] = []
  for (const d of raw) {
    const name = d.trim().toLowerCase().replace(/\.$/, '')
    if (!HOST.test(name)) throw connectionParamInvalid('domains', `${d} is not a domain name.`)
    if (!out.includes(name)) out.push(name)
  }
  return out
}

/** Scoped to one organization (the FAPI org routes) or the whole env (BAPI). */
export interface Scope {
  organizationId?: string
}

export function loadConnection(db: Db, id: string, scope: Scope = {}): EnterpriseConnectionRow | undefined {
  if (!isId('enterpriseConnection', id)) return undefined
  const row = db
    .select()
    .from(enterpriseConnections)
    .where(and(eq(enterpriseConnections.id, id), isNull(enterpriseConnections.deletedAt)))
    .get()
  if (!row) return undefined
  if (scope.organizationId !== undefined && row.organizationId !== scope.organizationId) return undefined
  return row
}

export function requireConnection(db: Db, id: string, scope: Scope = {}): EnterpriseConnectionRow {
  const row = loadConnection(db, id, scope)
  assertThat(row, () => notFound('enterprise connection'))
  return row
}

export const getConnection = (ctx: EnvContext, id: string, scope: Scope = {}) =>
  toConnectionResource(ctx, requireConnection(ctx.db, id, scope))

export function listConnections(
  ctx: EnvContext,
  q: ListEnterpriseConnectionsQuery,
  scope: Scope = {},
): Page<EnterpriseConnectionResource> {
  const org = scope.organizationId ?? q.organization_id
  const filter = and(
    isNull(enterpriseConnections.deletedAt),
    org !== undefined ? eq(enterpriseConnections.organizationId, org) : undefined,
  )
  const page = tablePage(ctx, enterpriseConnections, filter, q)
  return pageOf(
    page.rows.map((r) => toConnectionResource(ctx, r)),
    page.next_cursor,
    page.total,
  )
}

/** What the async part of a write resolved: metadata fetched, discovery done, keys checked. */
interface Resolved {
  set: Partial<EnterpriseConnectionRow>
  signingKey?: string | null
  clientSecret?: string | null
}

function checkSigningKey(key: string, certificate: string | null | undefined) {
  let publicFromKey: string
  try {
    publicFromKey = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'pem' }).toString()
  } catch {
    throw connectionParamInvalid('saml_signing_key', 'saml_signing_key must be a PEM private key.')
  }
  if (!certificate)
    throw formError(
      'form_param_missing',
      'saml_signing_certificate',
      'is missing',
      'saml_signing_certificate (the certificate of saml_signing_key) is required with a signing key.',
    )
  const cert = requireCertificates([certificate], 'saml_signing_certificate')[0]!
  const fromCert = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'pem' }).toString()
  if (fromCert !== publicFromKey)
    throw connectionParamInvalid(
      'saml_signing_certificate',
      'saml_signing_certificate does not match saml_signing_key.',
    )
  return cert
}

const SAML_FIELDS = [
  'saml_idp_entity_id',
  'saml_idp_sso_url',
  'saml_idp_certificate',
  'saml_idp_certificates',
  'saml_idp_metadata_url',
  'saml_idp_metadata',
  'saml_want_response_signed',
  'saml_want_assertions_signed',
  'saml_signing_key',
  'saml_signing_certificate',
] as const
const OIDC_FIELDS = [
  'oidc_discovery_url',
  'oidc_client_id',
  'oidc_client_secret',
  'oidc_scopes',
  'oidc_token_auth_method',
] as const

type Input = Partial<CreateEnterpriseConnectionBody>

/**
 * The slow, outbound part of a create or update, before any transaction: IdP metadata fetched
 * and parsed, OIDC discovery, certificates and keys parsed. Fields of the other protocol are
 * refused rather than ignored.
 */
async function resolve(
  ctx: EnvContext,
  protocol: 'saml' | 'oidc',
  input: Input,
  current: EnterpriseConnectionRow | null,
): Promise<Resolved> {
  const foreign = (protocol === 'saml' ? OIDC_FIELDS : SAML_FIELDS).find((f) => input[f] !== undefined)
  if (foreign)
    throw connectionParamInvalid(
      foreign,
      `${foreign} does not apply to a ${protocol.toUpperCase()} connection.`,
    )
  const set: Partial<EnterpriseConnectionRow> = {}
  const out: Resolved = { set }
  if (protocol === 'saml') {
    let meta: IdpMetadata | null = null
    if (input.saml_idp_metadata) meta = await parseIdpMetadata(input.saml_idp_metadata)
    else if (input.saml_idp_metadata_url) {
      const url = checkOutboundUrl(ctx, input.saml_idp_metadata_url, 'saml_idp_metadata_url')
      const xml = await fetchDocument(url, 'saml_idp_metadata_url', 'The IdP metadata')
      meta = await parseIdpMetadata(xml, 'saml_idp_metadata_url')
      set.samlIdpMetadataUrl = url.href
    }
    if (input.saml_idp_metadata_url === null) set.samlIdpMetadataUrl = null
    if (meta) {
      set.samlIdpEntityId = meta.entityId
      if (meta.ssoUrl) set.samlIdpSsoUrl = meta.ssoUrl
      set.samlIdpCertificates = meta.certificates
      if (input.saml_idp_metadata) set.samlIdpMetadata = input.saml_idp_metadata
    }
    // Explicit fields win over the metadata's.
    if (input.saml_idp_entity_id !== undefined) set.samlIdpEntityId = input.saml_idp_entity_id
    if (input.saml_idp_sso_url !== undefined)
      set.samlIdpSsoUrl =
        input.saml_idp_sso_url === null
          ? null
          : checkOutboundUrl(ctx, input.saml_idp_sso_url, 'saml_idp_sso_url').href
    const certs =
      input.saml_idp_certificates ??
      (input.saml_idp_certificate !== undefined
        ? input.saml_idp_certificate === null
          ? []
          : [input.saml_idp_certificate]
        : undefined)
    if (certs !== undefined) set.samlIdpCertificates = requireCertificates(certs, 'saml_idp_certificates')
    if (input.saml_want_response_signed !== undefined)
      set.samlWantResponseSigned = input.saml_want_response_signed
    if (input.saml_want_assertions_signed !== undefined)
      set.samlWantAssertionsSigned = input.saml_want_assertions_signed
    if (input.saml_signing_key === null) {
      out.signingKey = null
      set.samlSigningCertificate = null
    } else if (input.saml_signing_key !== undefined) {
      set.samlSigningCertificate = checkSigningKey(input.saml_signing_key, input.saml_signing_certificate)
      out.signingKey = input.saml_signing_key
    } else if (input.saml_signing_certificate !== undefined) {
      throw connectionParamInvalid(
        'saml_signing_certificate',
        'Send saml_signing_certificate together with saml_signing_key.',
      )
    }
    const entityId = set.samlIdpEntityId ?? current?.samlIdpEntityId
    const ssoUrl = set.samlIdpSsoUrl !== undefined ? set.samlIdpSsoUrl : current?.samlIdpSsoUrl
    const trusted = set.samlIdpCertificates ?? current?.samlIdpCertificates ?? []
    if (!entityId)
      throw formError(
        'form_param_missing',
        'saml_idp_entity_id',
        'is missing',
        'Give saml_idp_metadata, saml_idp_metadata_url or saml_idp_entity_id.',
      )
    if (!ssoUrl)
      throw formError(
        'form_param_missing',
        'saml_idp_sso_url',
        'is missing',
        'The IdP SSO URL (HTTP-Redirect binding) is required.',
      )
    if (!trusted.length)
      throw formError(
        'form_param_missing',
        'saml_idp_certificates',
        'is missing',
        'At least one IdP signing certificate is required.',
      )
    return out
  }
  if (input.oidc_discovery_url) {
    const found = await discoverIssuer(ctx, input.oidc_discovery_url)
    set.oidcIssuer = found.issuer
    set.oidcMetadata = found.metadata as unknown as Record<string, unknown>
  }
  if (input.oidc_client_id !== undefined) set.oidcClientId = input.oidc_client_id
  if (input.oidc_client_secret !== undefined) out.clientSecret = input.oidc_client_secret
  if (input.oidc_scopes !== undefined) set.oidcScopes = input.oidc_scopes
  if (input.oidc_token_auth_method !== undefined) set.oidcTokenAuthMethod = input.oidc_token_auth_method
  if (!(set.oidcIssuer ?? current?.oidcIssuer))
    throw formError(
      'form_param_missing',
      'oidc_discovery_url',
      'is missing',
      'oidc_discovery_url (the issuer) is required.',
    )
  if (!(set.oidcClientId ?? current?.oidcClientId))
    throw formError('form_param_missing', 'oidc_client_id', 'is missing', 'oidc_client_id is required.')
  return out
}

/**
 * An org-scoped connection routes only domains its organization has verified (the domain itself
 * or a parent of it): an organization cannot send another tenant's people to its own IdP.
 */
function assertVerifiedForOrganization(tx: EnvTx, organizationId: string | null, domains: string[]) {
  if (!organizationId) return
  const verified = verifiedDomainNames(tx, organizationId)
  const missing = domains.find((d) => !verified.some((v) => d === v || d.endsWith(`.${v}`)))
  if (missing) throw domainNotVerified(missing)
}

/** Claims the domains for this connection; another live connection holding one is a 422. */
function claimDomains(tx: EnvTx, id: string, domains: string[]) {
  const held = domains.length
    ? tx
        .select()
        .from(enterpriseConnectionDomains)
        .where(
          and(
            inArray(enterpriseConnectionDomains.domain, domains),
            ne(enterpriseConnectionDomains.connectionId, id),
          ),
        )
        .all()
    : []
  if (held.length) throw domainTaken(held[0]!.domain)
  tx.delete(enterpriseConnectionDomains).where(eq(enterpriseConnectionDomains.connectionId, id)).run()
  for (const domain of domains)
    tx.insert(enterpriseConnectionDomains).values({ domain, connectionId: id }).run()
}

function sealSecrets(ctx: EnvContext, id: string, r: Resolved, set: Partial<EnterpriseConnectionRow>) {
  if (r.signingKey !== undefined)
    set.samlSigningKey = r.signingKey === null ? null : seal(ctx.dataKey, r.signingKey, signingKeyAad(id))
  if (r.clientSecret !== undefined)
    set.oidcClientSecret =
      r.clientSecret === null ? null : seal(ctx.dataKey, r.clientSecret, clientSecretAad(id))
}

export async function createConnection(
  ctx: EnvContext,
  input: CreateEnterpriseConnectionBody,
  scope: Scope = {},
): Promise<EnterpriseConnectionResource> {
  if (
    scope.organizationId !== undefined &&
    input.organization_id != null &&
    input.organization_id !== scope.organizationId
  )
    throw connectionParamInvalid(
      'organization_id',
      'organization_id must be this organization (or be left out).',
    )
  const organizationId = scope.organizationId ?? input.organization_id ?? null
  const domains = normalizeDomains(input.domains)
  const resolved = await resolve(ctx, input.protocol, input, null)
  const id = newId('enterpriseConnection')
  const now = ctx.clock.now()
  const row = withTx(ctx, (tx) => {
    if (organizationId && !findOrganization(tx, organizationId))
      throw connectionParamInvalid('organization_id', 'No organization was found with that id.')
    assertVerifiedForOrganization(tx, organizationId, domains)
    const values: EnterpriseConnectionRow = {
      id,
      name: input.name,
      protocol: input.protocol,
      provider: input.provider ?? `${input.protocol}_custom`,
      organizationId,
      domains,
      active: input.active ?? true,
      syncUserAttributes: input.sync_user_attributes ?? true,
      jitProvisioning: input.jit_provisioning ?? true,
      allowIdpInitiated: input.allow_idp_initiated ?? false,
      allowSubdomains: input.allow_subdomains ?? false,
      enforceSso: input.enforce_sso ?? true,
      attributeMapping: input.attribute_mapping ?? {},
      samlIdpEntityId: null,
      samlIdpSsoUrl: null,
      samlIdpCertificates: [],
      samlIdpMetadataUrl: null,
      samlIdpMetadata: null,
      samlWantResponseSigned: false,
      samlWantAssertionsSigned: false,
      samlSigningKey: null,
      samlSigningCertificate: null,
      oidcIssuer: null,
      oidcClientId: null,
      oidcClientSecret: null,
      oidcScopes: input.protocol === 'oidc' ? 'openid email profile' : null,
      oidcTokenAuthMethod: input.protocol === 'oidc' ? 'client_secret_basic' : null,
      oidcMetadata: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      ...resolved.set,
    }
    sealSecrets(ctx, id, resolved, values)
    tx.insert(enterpriseConnections).values(values).run()
    claimDomains(tx, id, domains)
    const resource = toConnectionResource(ctx, values)
    emit(tx, ctx, 'enterpriseConnection.created', resource)
    return values
  })
  return toConnectionResource(ctx, row)
}

export async function updateConnection(
  ctx: EnvContext,
  id: string,
  input: UpdateEnterpriseConnectionBody,
  scope: Scope = {},
): Promise<EnterpriseConnectionResource> {
  const current = requireConnection(ctx.db, id, scope)
  const domains = input.domains ? normalizeDomains(input.domains) : undefined
  const resolved = await resolve(ctx, current.protocol, input, current)
  const row = withTx(ctx, (tx) => {
    const fresh = requireConnection(tx, id, scope)
    const set: Partial<EnterpriseConnectionRow> = { ...resolved.set, updatedAt: ctx.clock.now() }
    if (input.name !== undefined) set.name = input.name
    if (input.provider !== undefined) {
      if (!input.provider.startsWith(`${fresh.protocol}_`))
        throw connectionParamInvalid('provider', `provider must start with ${fresh.protocol}_.`)
      set.provider = input.provider
    }
    if (input.active !== undefined) set.active = input.active
    if (input.sync_user_attributes !== undefined) set.syncUserAttributes = input.sync_user_attributes
    if (input.jit_provisioning !== undefined) set.jitProvisioning = input.jit_provisioning
    if (input.allow_idp_initiated !== undefined) set.allowIdpInitiated = input.allow_idp_initiated
    if (input.allow_subdomains !== undefined) set.allowSubdomains = input.allow_subdomains
    if (input.enforce_sso !== undefined) set.enforceSso = input.enforce_sso
    if (input.attribute_mapping !== undefined) set.attributeMapping = input.attribute_mapping
    if (domains) {
      assertVerifiedForOrganization(tx, fresh.organizationId, domains)
      set.domains = domains
      claimDomains(tx, id, domains)
    }
    sealSecrets(ctx, id, resolved, set)
    tx.update(enterpriseConnections).set(set).where(eq(enterpriseConnections.id, id)).run()
    const updated = requireConnection(tx, id)
    emit(tx, ctx, 'enterpriseConnection.updated', toConnectionResource(ctx, updated))
    return updated
  })
  return toConnectionResource(ctx, row)
}

/** Soft delete: sign-ins stop at once, the domains are released, enterprise accounts stay. */
export function deleteConnection(ctx: EnvContext, id: string, scope: Scope = {}) {
  return withTx(ctx, (tx) => {
    requireConnection(tx, id, scope)
    const now = ctx.clock.now()
    tx.update(enterpriseConnections)
      .set({ deletedAt: now, active: false, updatedAt: now })
      .where(eq(enterpriseConnections.id, id))
      .run()
    tx.delete(enterpriseConnectionDomains).where(eq(enterpriseConnectionDomains.connectionId, id)).run()
    const deleted = { object: 'enterprise_connection' as const, id, deleted: true as const }
    emit(tx, ctx, 'enterpriseConnection.deleted', deleted)
    return deleted
  })
}

/**
 * The live, active connection an email domain routes to: an exact match, else the closest
 * parent domain whose connection allows subdomains.
 */
export function connectionForEmail(db: Db, email: string): EnterpriseConnectionRow | null {
  const at = email.lastIndexOf('@')
  if (at === -1) return null
  const labels = email
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .split('.')
  for (let i = 0; i < labels.length - 1; i++) {
    const domain = labels.slice(i).join('.')
    const hit = db
      .select()
      .from(enterpriseConnectionDomains)
      .where(eq(enterpriseConnectionDomains.domain, domain))
      .get()
    if (!hit) continue
    const row = loadConnection(db, hit.connectionId)
    if (!row?.active) return null
    if (i > 0 && !row.allowSubdomains) return null
    return row
  }
  return null
}

/** Does the connection route this email's domain (exactly, or as a subdomain when allowed)? */
export function routesEmail(row: EnterpriseConnectionRow, email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
  return row.domains.some((d) => domain === d || (row.allowSubdomains && domain.endsWith(`.${d}`)))
}

export const signingKeyOf = (ctx: EnvContext, row: EnterpriseConnectionRow) =>
  row.samlSigningKey ? unseal(ctx.dataKey, row.samlSigningKey, signingKeyAad(row.id)) : null

export const clientSecretOf = (ctx: EnvContext, row: EnterpriseConnectionRow) =>
  row.oidcClientSecret ? unseal(ctx.dataKey, row.oidcClientSecret, clientSecretAad(row.id)) : null
