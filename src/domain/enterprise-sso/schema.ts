import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { users } from '../users/schema'

/** How a connection's IdP claims map onto the user (SAML attribute names or OIDC claim names). */
export interface AttributeMapping {
  user_id?: string
  email_address?: string
  first_name?: string
  last_name?: string
}

/**
 * An enterprise connection (`ec_…`): a SAML 2.0 or OIDC identity provider that signs in the
 * people of the email domains routed to it. `protocol` and `organization_id` never change; a
 * delete is soft (`deleted_at`): the enterprise accounts stay for audit, sign-ins stop at once
 * and the domains are released.
 */
export const enterpriseConnections = sqliteTable(
  'enterprise_connections',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    protocol: text('protocol', { enum: ['saml', 'oidc'] }).notNull(),
    provider: text('provider').notNull(),
    /** null: instance-wide; else the organization whose members it signs in (default role). */
    organizationId: text('organization_id'),
    /** Email domains routed here, lower-case (the routing index is `enterprise_connection_domains`). */
    domains: text('domains', { mode: 'json' }).$type<string[]>().notNull(),
    active: integer('active', { mode: 'boolean' }).notNull(),
    syncUserAttributes: integer('sync_user_attributes', { mode: 'boolean' }).notNull(),
    jitProvisioning: integer('jit_provisioning', { mode: 'boolean' }).notNull(),
    allowIdpInitiated: integer('allow_idp_initiated', { mode: 'boolean' }).notNull(),
    allowSubdomains: integer('allow_subdomains', { mode: 'boolean' }).notNull(),
    /**
     * "Enforce SSO": people of the routed domains sign in only through this connection (every
     * other first factor hidden and refused). Off: SSO is offered beside the others.
     */
    enforceSso: integer('enforce_sso', { mode: 'boolean' }).notNull().default(true),
    attributeMapping: text('attribute_mapping', { mode: 'json' }).$type<AttributeMapping>().notNull(),
    // SAML (the IdP's side)
    samlIdpEntityId: text('saml_idp_entity_id'),
    samlIdpSsoUrl: text('saml_idp_sso_url'),
    /** Every trusted signing certificate (PEM), for rotation; only currently valid ones verify. */
    samlIdpCertificates: text('saml_idp_certificates', { mode: 'json' }).$type<string[]>().notNull(),
    samlIdpMetadataUrl: text('saml_idp_metadata_url'),
    samlIdpMetadata: text('saml_idp_metadata'),
    /** Strict connections: demand a signed Response and/or signed assertions (else: at least one). */
    samlWantResponseSigned: integer('saml_want_response_signed', { mode: 'boolean' }).notNull(),
    samlWantAssertionsSigned: integer('saml_want_assertions_signed', { mode: 'boolean' }).notNull(),
    // SAML (our side): the key that signs AuthnRequests, sealed under the env data key.
    samlSigningKey: text('saml_signing_key'),
    samlSigningCertificate: text('saml_signing_certificate'),
    // OIDC
    oidcIssuer: text('oidc_issuer'),
    oidcClientId: text('oidc_client_id'),
    /** Sealed under the env data key; write-only on the wire. */
    oidcClientSecret: text('oidc_client_secret'),
    oidcScopes: text('oidc_scopes'),
    oidcTokenAuthMethod: text('oidc_token_auth_method', {
      enum: ['client_secret_basic', 'client_secret_post', 'none'],
    }),
    /** The issuer's discovery document (RFC 8414 / OIDC Discovery), as fetched at write time. */
    oidcMetadata: text('oidc_metadata', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    index('enterprise_connections_created').on(t.createdAt, t.id),
    index('enterprise_connections_org').on(t.organizationId, t.createdAt),
  ],
)

/** The routing index: one live connection per email domain in the env. */
export const enterpriseConnectionDomains = sqliteTable(
  'enterprise_connection_domains',
  {
    domain: text('domain').primaryKey(),
    connectionId: text('connection_id')
      .notNull()
      .references(() => enterpriseConnections.id, { onDelete: 'cascade' }),
  },
  (t) => [index('enterprise_connection_domains_connection').on(t.connectionId)],
)

/**
 * The link between a user and an identity at a connection's IdP (`entacc_…`), keyed by
 * (connection, NameID | sub), never by email. An unlink keeps the row (`unlinked_at`) for audit.
 */
export const enterpriseAccounts = sqliteTable(
  'enterprise_accounts',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    connectionId: text('connection_id')
      .notNull()
      .references(() => enterpriseConnections.id),
    protocol: text('protocol', { enum: ['saml', 'oidc'] }).notNull(),
    providerUserId: text('provider_user_id').notNull(),
    emailAddress: text('email_address'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    lastAuthenticatedAt: integer('last_authenticated_at'),
    unlinkedAt: integer('unlinked_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('enterprise_accounts_identity')
      .on(t.connectionId, t.providerUserId)
      .where(sql`${t.unlinkedAt} IS NULL`),
    index('enterprise_accounts_user').on(t.userId, t.createdAt),
    index('enterprise_accounts_created').on(t.createdAt, t.id),
  ],
)

/**
 * AuthnRequests we sent and not yet answered: a Response's InResponseTo must name one of these,
 * for the same connection and the same sign-in challenge, and uses it up.
 */
export const samlRequests = sqliteTable(
  'saml_requests',
  {
    id: text('id').primaryKey(),
    connectionId: text('connection_id').notNull(),
    challengeId: text('challenge_id').notNull(),
    issuedAt: text('issued_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('saml_requests_expiry').on(t.expiresAt)],
)

/**
 * An OIDC authorization we started: the PKCE verifier and nonce of the challenge whose `state`
 * the shared callback receives (the state itself lives, hashed, on the challenge).
 */
export const oidcRequests = sqliteTable(
  'oidc_requests',
  {
    challengeId: text('challenge_id').primaryKey(),
    connectionId: text('connection_id').notNull(),
    /** Sealed under the env data key. */
    codeVerifier: text('code_verifier').notNull(),
    nonce: text('nonce').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('oidc_requests_expiry').on(t.expiresAt)],
)

/** Assertion ids already consumed, kept until their NotOnOrAfter (+ skew): the replay cache. */
export const samlAssertionIds = sqliteTable(
  'saml_assertion_ids',
  {
    connectionId: text('connection_id').notNull(),
    assertionId: text('assertion_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.assertionId] }),
    index('saml_assertion_ids_expiry').on(t.expiresAt),
  ],
)

export type EnterpriseConnectionRow = typeof enterpriseConnections.$inferSelect
export type EnterpriseAccountRow = typeof enterpriseAccounts.$inferSelect
