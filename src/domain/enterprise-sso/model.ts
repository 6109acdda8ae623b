import { type Static, t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'
import { idPattern } from '../../lib/ids'

const Url = t.String({ minLength: 1, maxLength: 2048 })
const Domain = t.String({ minLength: 1, maxLength: 253 })
const Pem = t.String({ minLength: 1, maxLength: 16384 })

export const AttributeMapping = t.Object(
  {
    user_id: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
    email_address: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
    first_name: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
    last_name: t.Optional(t.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: false },
)

const CertificateInfo = t.Object({
  fingerprint_sha256: t.String(),
  subject: t.String(),
  not_before: t.Integer(),
  not_after: t.Integer(),
  /** Currently inside its validity window: only these verify signatures. */
  valid: t.Boolean(),
})

export const EnterpriseConnectionResource = t.Object({
  object: t.Literal('enterprise_connection'),
  id: t.String(),
  name: t.String(),
  protocol: t.Union([t.Literal('saml'), t.Literal('oidc')]),
  provider: t.String(),
  organization_id: t.Nullable(t.String()),
  domains: t.Array(t.String()),
  active: t.Boolean(),
  sync_user_attributes: t.Boolean(),
  jit_provisioning: t.Boolean(),
  allow_idp_initiated: t.Boolean(),
  allow_subdomains: t.Boolean(),
  /** People of the routed domains may sign in only through this connection. */
  enforce_sso: t.Boolean(),
  attribute_mapping: AttributeMapping,
  saml_idp_entity_id: t.Nullable(t.String()),
  saml_idp_sso_url: t.Nullable(t.String()),
  /** The first currently valid trusted certificate (PEM). */
  saml_idp_certificate: t.Nullable(t.String()),
  saml_idp_certificates: t.Array(CertificateInfo),
  saml_idp_metadata_url: t.Nullable(t.String()),
  saml_want_response_signed: t.Boolean(),
  saml_want_assertions_signed: t.Boolean(),
  saml_sp_entity_id: t.Nullable(t.String()),
  saml_acs_url: t.Nullable(t.String()),
  saml_metadata_url: t.Nullable(t.String()),
  /** Our certificate for signed AuthnRequests (the key itself is write-only). */
  saml_signing_certificate: t.Nullable(t.String()),
  has_saml_signing_key: t.Boolean(),
  oidc_discovery_url: t.Nullable(t.String()),
  oidc_client_id: t.Nullable(t.String()),
  has_oidc_client_secret: t.Boolean(),
  oidc_scopes: t.Nullable(t.String()),
  oidc_token_auth_method: t.Nullable(t.String()),
  oidc_auth_url: t.Nullable(t.String()),
  oidc_token_url: t.Nullable(t.String()),
  oidc_userinfo_url: t.Nullable(t.String()),
  oidc_jwks_url: t.Nullable(t.String()),
  oidc_redirect_uri: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type EnterpriseConnectionResource = Static<typeof EnterpriseConnectionResource>

export const DeletedEnterpriseConnection = t.Object({
  object: t.Literal('enterprise_connection'),
  id: t.String(),
  deleted: t.Literal(true),
})

const common = {
  name: t.String({ minLength: 1, maxLength: 256 }),
  provider: t.Optional(t.String({ pattern: '^(saml|oidc)_[a-z0-9_]{1,40}$' })),
  domains: t.Array(Domain, { minItems: 1, maxItems: 50 }),
  active: t.Optional(t.Boolean()),
  sync_user_attributes: t.Optional(t.Boolean()),
  jit_provisioning: t.Optional(t.Boolean()),
  allow_idp_initiated: t.Optional(t.Boolean()),
  allow_subdomains: t.Optional(t.Boolean()),
  enforce_sso: t.Optional(t.Boolean()),
  attribute_mapping: t.Optional(AttributeMapping),
  saml_idp_entity_id: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 1024 }))),
  saml_idp_sso_url: t.Optional(t.Nullable(Url)),
  /** One certificate, or several (`saml_idp_certificates`) while the IdP rotates. */
  saml_idp_certificate: t.Optional(t.Nullable(Pem)),
  saml_idp_certificates: t.Optional(t.Array(Pem, { maxItems: 5 })),
  saml_idp_metadata_url: t.Optional(t.Nullable(Url)),
  saml_idp_metadata: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 262144 }))),
  saml_want_response_signed: t.Optional(t.Boolean()),
  saml_want_assertions_signed: t.Optional(t.Boolean()),
  /** Write-only: a PEM private key that signs our AuthnRequests; null clears it. */
  saml_signing_key: t.Optional(t.Nullable(Pem)),
  saml_signing_certificate: t.Optional(t.Nullable(Pem)),
  oidc_discovery_url: t.Optional(t.Nullable(Url)),
  oidc_client_id: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 512 }))),
  /** Write-only; null clears it. */
  oidc_client_secret: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 2048 }))),
  oidc_scopes: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 1024 }))),
  oidc_token_auth_method: t.Optional(
    t.Union([t.Literal('client_secret_basic'), t.Literal('client_secret_post'), t.Literal('none')]),
  ),
}

export const CreateEnterpriseConnectionBody = t.Object(
  {
    ...common,
    protocol: t.Union([t.Literal('saml'), t.Literal('oidc')]),
    organization_id: t.Optional(t.Nullable(t.String({ pattern: idPattern('organization') }))),
  },
  { additionalProperties: false },
)
export type CreateEnterpriseConnectionBody = Static<typeof CreateEnterpriseConnectionBody>

export const UpdateEnterpriseConnectionBody = t.Object(
  { ...common, name: t.Optional(common.name), domains: t.Optional(common.domains) },
  { additionalProperties: false },
)
export type UpdateEnterpriseConnectionBody = Static<typeof UpdateEnterpriseConnectionBody>

export const ConnectionIdParams = t.Object({ id: t.String({ maxLength: 64 }) })

export const ListEnterpriseConnectionsQuery = t.Object(
  {
    ...PaginationQuery,
    organization_id: t.Optional(t.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
)
export type ListEnterpriseConnectionsQuery = Static<typeof ListEnterpriseConnectionsQuery>

export const TestCheck = t.Object({
  name: t.String(),
  status: t.Union([t.Literal('pass'), t.Literal('warn'), t.Literal('fail'), t.Literal('skipped')]),
  message: t.String(),
  details: t.Optional(t.Record(t.String(), t.Unknown())),
})
export type TestCheck = Static<typeof TestCheck>

export const EnterpriseConnectionTestResult = t.Object({
  object: t.Literal('enterprise_connection_test_result'),
  connection_id: t.String(),
  ok: t.Boolean(),
  checks: t.Array(TestCheck),
  warnings: t.Array(t.String()),
  checked_at: t.Integer(),
})
export type EnterpriseConnectionTestResult = Static<typeof EnterpriseConnectionTestResult>

export const EnterpriseAccountResource = t.Object({
  object: t.Literal('enterprise_account'),
  id: t.String(),
  user_id: t.String(),
  enterprise_connection_id: t.String(),
  protocol: t.String(),
  provider: t.String(),
  active: t.Boolean(),
  email_address: t.Nullable(t.String()),
  first_name: t.Nullable(t.String()),
  last_name: t.Nullable(t.String()),
  provider_user_id: t.String(),
  last_authenticated_at: t.Nullable(t.Integer()),
  unlinked_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type EnterpriseAccountResource = Static<typeof EnterpriseAccountResource>

export const ListEnterpriseAccountsQuery = t.Object(
  {
    ...PaginationQuery,
    user_id: t.Optional(t.String({ maxLength: 64 })),
    enterprise_connection_id: t.Optional(t.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
)
export type ListEnterpriseAccountsQuery = Static<typeof ListEnterpriseAccountsQuery>

export const DeletedEnterpriseAccount = t.Object({
  object: t.Literal('enterprise_account'),
  id: t.String(),
  deleted: t.Literal(true),
})
