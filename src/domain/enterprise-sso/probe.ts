import * as oauth from 'oauth4webapi'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { clientSecretOf, requireConnection, type Scope, signingKeyOf } from './connections'
import {
  checkOutboundUrl,
  FETCH_TIMEOUT_MS,
  isCurrentlyValid,
  parseCertificate,
  parseIdpMetadata,
} from './idp-config'
import type { EnterpriseConnectionTestResult, TestCheck } from './model'
import { discoverIssuer, requestOptions } from './oidc-discovery'
import type { EnterpriseConnectionRow } from './schema'
import { oidcRedirectUri, samlSpUrls } from './serialize'

/**
 * The dry run (`POST …/enterprise-connections/{id}/test`): everything a sign-in would need,
 * checked one by one without sending anybody to the IdP. Every network call is time-boxed and
 * follows the outbound URL rules; a failure is a check's result, never a 5xx.
 */

const DAY = 86_400_000
const pass = (name: string, message: string, details?: Record<string, unknown>): TestCheck => ({
  name,
  status: 'pass',
  message,
  ...(details ? { details } : {}),
})
const warn = (name: string, message: string, details?: Record<string, unknown>): TestCheck => ({
  name,
  status: 'warn',
  message,
  ...(details ? { details } : {}),
})
const fail = (name: string, message: string, details?: Record<string, unknown>): TestCheck => ({
  name,
  status: 'fail',
  message,
  ...(details ? { details } : {}),
})

const why = (e: unknown) =>
  e instanceof AppError ? (e.items[0]?.long_message ?? e.message) : e instanceof Error ? e.message : String(e)

async function guarded(name: string, run: () => Promise<TestCheck | TestCheck[]>): Promise<TestCheck[]> {
  try {
    const out = await run()
    return Array.isArray(out) ? out : [out]
  } catch (e) {
    return [fail(name, why(e))]
  }
}

function samlCertificates(row: EnterpriseConnectionRow, now: number): TestCheck[] {
  const infos = row.samlIdpCertificates.map((pem) => parseCertificate(pem))
  const checks: TestCheck[] = []
  let valid = 0
  for (const info of infos) {
    if (!info) {
      checks.push(fail('certificate', 'A trusted certificate does not parse.'))
      continue
    }
    const daysLeft = Math.floor((info.not_after - now) / DAY)
    const details = {
      fingerprint_sha256: info.fingerprint_sha256,
      subject: info.subject,
      days_left: daysLeft,
    }
    if (!isCurrentlyValid(info, now)) {
      checks.push(
        fail(
          'certificate_expiry',
          info.not_after <= now ? 'The certificate has expired.' : 'The certificate is not valid yet.',
          details,
        ),
      )
    } else {
      valid++
      checks.push(
        daysLeft < 30
          ? warn('certificate_expiry', `The certificate expires in ${daysLeft} days.`, details)
          : pass('certificate_expiry', `The certificate is valid for ${daysLeft} more days.`, details),
      )
    }
  }
  checks.unshift(
    valid
      ? pass('certificate', `${valid} of ${infos.length} trusted certificates can verify signatures.`)
      : fail('certificate', 'No trusted certificate is currently valid: every sign-in would fail.'),
  )
  return checks
}

async function probeSaml(ctx: EnvContext, row: EnterpriseConnectionRow): Promise<TestCheck[]> {
  const now = ctx.clock.now()
  const checks: TestCheck[] = []
  const missing = [
    !row.samlIdpEntityId && 'saml_idp_entity_id',
    !row.samlIdpSsoUrl && 'saml_idp_sso_url',
    !row.domains.length && 'domains',
  ].filter(Boolean)
  checks.push(
    missing.length
      ? fail('config', `Missing: ${missing.join(', ')}.`)
      : pass('config', 'The connection is configured.'),
  )
  checks.push(...samlCertificates(row, now))
  if (row.samlIdpMetadataUrl) {
    checks.push(
      ...(await guarded('metadata', async () => {
        const url = checkOutboundUrl(ctx, row.samlIdpMetadataUrl!, 'saml_idp_metadata_url')
        const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' })
        if (!res.ok) return fail('metadata', `The metadata URL answered HTTP ${res.status}.`)
        const meta = await parseIdpMetadata(await res.text(), 'saml_idp_metadata_url')
        if (meta.entityId !== row.samlIdpEntityId)
          return fail(
            'metadata',
            `The metadata's entityID (${meta.entityId}) is not the configured IdP entity id.`,
          )
        const added = meta.certificates.filter((c) => !row.samlIdpCertificates.includes(c))
        return added.length
          ? warn(
              'metadata',
              `The metadata lists ${added.length} signing certificate(s) not trusted yet: update the connection.`,
            )
          : pass('metadata', 'The metadata was fetched and matches the connection.')
      })),
    )
  }
  if (row.samlIdpSsoUrl) {
    checks.push(
      ...(await guarded('sso_url', async () => {
        const url = checkOutboundUrl(ctx, row.samlIdpSsoUrl!, 'saml_idp_sso_url')
        // Any HTTP answer counts: a GET without SAMLRequest is often a 4xx.
        const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'manual' })
        await res.body?.cancel()
        return pass('sso_url', `The IdP SSO URL is reachable (HTTP ${res.status}).`)
      })),
    )
  }
  const sp = samlSpUrls(ctx.frontendUrl(), row.id)
  checks.push(
    pass('acs_url', 'Register these with the IdP.', {
      sp_entity_id: sp.entityId,
      acs_url: sp.acsUrl,
      metadata_url: sp.metadataUrl,
    }),
  )
  if (row.samlSigningCertificate) {
    const info = parseCertificate(row.samlSigningCertificate)
    const key = signingKeyOf(ctx, row)
    checks.push(
      info && key && isCurrentlyValid(info, now)
        ? pass('sp_certificate', 'Our request-signing certificate is valid.')
        : fail('sp_certificate', 'Our request-signing key or certificate is missing or expired.'),
    )
  }
  return checks
}

async function probeOidc(ctx: EnvContext, row: EnterpriseConnectionRow): Promise<TestCheck[]> {
  const checks: TestCheck[] = []
  const redirectUri = oidcRedirectUri(ctx.frontendUrl())
  checks.push(
    row.oidcIssuer && row.oidcClientId
      ? pass('config', 'The connection is configured.', { redirect_uri: redirectUri })
      : fail('config', 'The issuer and client id are required.'),
  )
  if (!row.oidcIssuer) return checks
  let as: oauth.AuthorizationServer
  try {
    as = (await discoverIssuer(ctx, row.oidcIssuer)).metadata
    checks.push(pass('discovery', 'The discovery document was fetched; its issuer matches.'))
  } catch (e) {
    checks.push(fail('discovery', why(e)))
    return checks
  }
  if (!as.response_types_supported?.includes('code'))
    checks.push(fail('issuer', 'The IdP does not support the authorization code flow.'))
  checks.push(
    ...(await guarded('jwks', async () => {
      const url = new URL(as.jwks_uri!)
      const res = await fetch(url, requestOptions(ctx, url))
      if (!res.ok) return fail('jwks', `The JWKS answered HTTP ${res.status}.`)
      const jwks = (await res.json()) as { keys?: Array<{ use?: string; kty?: string }> }
      const usable = (jwks.keys ?? []).filter((k) => k.use !== 'enc')
      return usable.length
        ? pass('jwks', `The JWKS has ${usable.length} signing key(s).`)
        : fail('jwks', 'The JWKS has no signing key.')
    })),
  )
  checks.push(
    as.code_challenge_methods_supported?.includes('S256')
      ? pass('pkce', 'The IdP supports PKCE (S256).')
      : warn('pkce', 'The IdP does not advertise PKCE S256.'),
  )
  const method = row.oidcTokenAuthMethod ?? 'client_secret_basic'
  const methods = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
  checks.push(
    methods.includes(method)
      ? pass('auth_method', `The IdP accepts ${method}.`)
      : fail('auth_method', `The IdP does not accept ${method} (it accepts ${methods.join(', ')}).`),
  )
  if (row.oidcClientId) {
    const client: oauth.Client = { client_id: row.oidcClientId, token_endpoint_auth_method: method }
    const secret = clientSecretOf(ctx, row)
    const auth =
      method === 'none'
        ? oauth.None()
        : method === 'client_secret_post'
          ? oauth.ClientSecretPost(secret ?? '')
          : oauth.ClientSecretBasic(secret ?? '')
    checks.push(
      ...(await guarded('token_endpoint', async () => {
        const url = new URL(as.token_endpoint!)
        const res = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          new URLSearchParams({ code: crypto.randomUUID() }),
          redirectUri,
          'probe-verifier-probe-verifier-probe-verifier-00',
          requestOptions(ctx, url),
        )
        const body = (await res.json().catch(() => ({}))) as { error?: string }
        if (body.error === 'invalid_client' || res.status === 401)
          return fail('token_endpoint', 'The IdP refused the client credentials (invalid_client).')
        if (body.error === 'invalid_grant')
          return pass(
            'token_endpoint',
            'The client credentials are accepted (a made-up code was refused as invalid_grant).',
          )
        return warn(
          'token_endpoint',
          `Inconclusive: the token endpoint answered ${body.error ?? `HTTP ${res.status}`}.`,
        )
      })),
    )
    checks.push(
      ...(await guarded('redirect_uri', async () => {
        const url = new URL(as.authorization_endpoint!)
        url.searchParams.set('client_id', row.oidcClientId!)
        url.searchParams.set('response_type', 'code')
        url.searchParams.set('scope', 'openid')
        url.searchParams.set('redirect_uri', redirectUri)
        url.searchParams.set('prompt', 'none')
        url.searchParams.set('state', oauth.generateRandomState())
        url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
        url.searchParams.set('code_challenge_method', 'S256')
        const res = await fetch(url, { ...requestOptions(ctx, url), redirect: 'manual' })
        await res.body?.cancel()
        const location = res.headers.get('location')
        if (res.status >= 300 && res.status < 400 && location?.startsWith(redirectUri))
          return pass('redirect_uri', 'Our redirect URI is registered at the IdP.', {
            redirect_uri: redirectUri,
          })
        if (res.status === 400)
          return fail('redirect_uri', 'The IdP refused our redirect URI: register it.', {
            redirect_uri: redirectUri,
          })
        return warn('redirect_uri', 'Inconclusive: check that our redirect URI is registered.', {
          redirect_uri: redirectUri,
        })
      })),
    )
  }
  return checks
}

export async function testConnection(
  ctx: EnvContext,
  id: string,
  scope: Scope = {},
): Promise<EnterpriseConnectionTestResult> {
  const row = requireConnection(ctx.db, id, scope)
  const checks = row.protocol === 'saml' ? await probeSaml(ctx, row) : await probeOidc(ctx, row)
  if (!row.active) checks.unshift(warn('active', 'The connection is inactive: sign-ins are refused.'))
  return {
    object: 'enterprise_connection_test_result',
    connection_id: row.id,
    ok: !checks.some((c) => c.status === 'fail'),
    checks,
    warnings: checks.filter((c) => c.status === 'warn').map((c) => c.message),
    checked_at: ctx.clock.now(),
  }
}
