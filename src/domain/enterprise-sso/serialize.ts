import type { EnvContext } from '../../tenancy/context'
import { isCurrentlyValid, parseCertificate } from './idp-config'
import type { EnterpriseAccountResource, EnterpriseConnectionResource } from './model'
import type { EnterpriseAccountRow, EnterpriseConnectionRow } from './schema'

/** Our side of a SAML connection: its entity id (= metadata URL), ACS and metadata URLs. */
export const samlSpUrls = (frontendUrl: string, id: string) => ({
  entityId: `${frontendUrl}/v1/saml/${id}/metadata`,
  acsUrl: `${frontendUrl}/v1/saml/${id}/acs`,
  metadataUrl: `${frontendUrl}/v1/saml/${id}/metadata`,
})

export const oidcRedirectUri = (frontendUrl: string) => `${frontendUrl}/v1/enterprise-sso-callback`

const str = (v: unknown) => (typeof v === 'string' ? v : null)

export function toConnectionResource(
  ctx: EnvContext,
  row: EnterpriseConnectionRow,
): EnterpriseConnectionResource {
  const now = ctx.clock.now()
  const certs = row.samlIdpCertificates.flatMap((pem) => {
    const info = parseCertificate(pem)
    return info ? [info] : []
  })
  const primary = certs.find((c) => isCurrentlyValid(c, now)) ?? null
  const saml = row.protocol === 'saml'
  const sp = saml ? samlSpUrls(ctx.frontendUrl(), row.id) : null
  const m = row.oidcMetadata ?? {}
  return {
    object: 'enterprise_connection',
    id: row.id,
    name: row.name,
    protocol: row.protocol,
    provider: row.provider,
    organization_id: row.organizationId,
    domains: row.domains,
    active: row.active,
    sync_user_attributes: row.syncUserAttributes,
    jit_provisioning: row.jitProvisioning,
    allow_idp_initiated: row.allowIdpInitiated,
    allow_subdomains: row.allowSubdomains,
    enforce_sso: row.enforceSso,
    attribute_mapping: row.attributeMapping,
    saml_idp_entity_id: row.samlIdpEntityId,
    saml_idp_sso_url: row.samlIdpSsoUrl,
    saml_idp_certificate: primary?.pem ?? null,
    saml_idp_certificates: certs.map((c) => ({
      fingerprint_sha256: c.fingerprint_sha256,
      subject: c.subject,
      not_before: c.not_before,
      not_after: c.not_after,
      valid: isCurrentlyValid(c, now),
    })),
    saml_idp_metadata_url: row.samlIdpMetadataUrl,
    saml_want_response_signed: row.samlWantResponseSigned,
    saml_want_assertions_signed: row.samlWantAssertionsSigned,
    saml_sp_entity_id: sp?.entityId ?? null,
    saml_acs_url: sp?.acsUrl ?? null,
    saml_metadata_url: sp?.metadataUrl ?? null,
    saml_signing_certificate: row.samlSigningCertificate,
    has_saml_signing_key: row.samlSigningKey !== null,
    oidc_discovery_url: row.oidcIssuer,
    oidc_client_id: row.oidcClientId,
    has_oidc_client_secret: row.oidcClientSecret !== null,
    oidc_scopes: row.oidcScopes,
    oidc_token_auth_method: row.oidcTokenAuthMethod,
    oidc_auth_url: str(m.authorization_endpoint),
    oidc_token_url: str(m.token_endpoint),
    oidc_userinfo_url: str(m.userinfo_endpoint),
    oidc_jwks_url: str(m.jwks_uri),
    oidc_redirect_uri: saml ? null : oidcRedirectUri(ctx.frontendUrl()),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  }
}

export const toAccountResource = (a: EnterpriseAccountRow, provider: string): EnterpriseAccountResource => ({
  object: 'enterprise_account',
  id: a.id,
  user_id: a.userId,
  enterprise_connection_id: a.connectionId,
  protocol: a.protocol,
  provider,
  active: a.unlinkedAt === null,
  email_address: a.emailAddress,
  first_name: a.firstName,
  last_name: a.lastName,
  provider_user_id: a.providerUserId,
  last_authenticated_at: a.lastAuthenticatedAt,
  unlinked_at: a.unlinkedAt,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
})
