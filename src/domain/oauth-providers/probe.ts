import * as oauth from 'oauth4webapi'
import type { EnvContext } from '../../tenancy/context'
import type { OauthProviderTestResult, ProbeCheck } from './model'
import type { OauthProviderRow } from './schema'
import { discover, providerConfig } from './upstream'

/**
 * The dry run of `POST /v1/oauth-providers/{id}/test`: discovery and JWKS reachable (OIDC), the
 * token endpoint answers a made-up code with `invalid_grant` (so it exists and did not refuse
 * the client's credentials), and the callback URL to register. Nobody is redirected; each check
 * reports pass, warn, fail or skipped.
 */
export async function probeProvider(
  ctx: EnvContext,
  row: OauthProviderRow,
): Promise<OauthProviderTestResult> {
  const cfg = providerConfig(ctx, row)
  const checks: ProbeCheck[] = []
  const fail = (name: string, err: unknown) =>
    checks.push({ name, status: 'fail', message: err instanceof Error ? err.message : String(err) })

  if (row.providerKind === 'custom_oidc' && row.discoveryUrl) {
    try {
      const as = await discover(ctx, row.discoveryUrl)
      checks.push({
        name: 'discovery',
        status: 'pass',
        message: `The discovery document names issuer ${as.issuer}.`,
      })
    } catch (err) {
      fail('discovery', err)
    }
  } else
    checks.push({
      name: 'discovery',
      status: 'skipped',
      message: 'The endpoints are configured, not discovered.',
    })

  if (cfg.protocol === 'oidc' && cfg.as.jwks_uri) {
    try {
      const res = await cfg.options[oauth.customFetch](cfg.as.jwks_uri, {
        headers: { accept: 'application/json' },
      })
      const body = (await res.json().catch(() => null)) as { keys?: unknown[] } | null
      if (!res.ok || !Array.isArray(body?.keys))
        throw new Error(`The JWKS answered ${res.status} without keys.`)
      checks.push({ name: 'jwks', status: 'pass', message: `The JWKS holds ${body.keys.length} key(s).` })
    } catch (err) {
      fail('jwks', err)
    }
  } else checks.push({ name: 'jwks', status: 'skipped', message: 'OAuth 2.0 providers sign no id_token.' })

  try {
    const params = new URLSearchParams({ code: 'authn-probe-not-a-code', redirect_uri: cfg.callbackUrl })
    if (cfg.pkce) params.set('code_verifier', oauth.generateRandomCodeVerifier())
    const res = await oauth.genericTokenEndpointRequest(
      cfg.as,
      cfg.client,
      cfg.clientAuth(),
      'authorization_code',
      params,
      cfg.options,
    )
    const body = (await res.json().catch(() => null)) as { error?: string } | null
    const error = body?.error
    if (error === 'invalid_grant' || error === 'bad_verification_code')
      checks.push({
        name: 'token_endpoint',
        status: 'pass',
        message:
          'The token endpoint refused a made-up code with invalid_grant: it accepted the client credentials.',
      })
    else if (
      error === 'invalid_client' ||
      error === 'unauthorized_client' ||
      error === 'incorrect_client_credentials'
    )
      checks.push({
        name: 'token_endpoint',
        status: 'fail',
        message: `The token endpoint refused the client credentials (${error}).`,
      })
    else
      checks.push({
        name: 'token_endpoint',
        status: 'warn',
        message: `The token endpoint answered ${res.status}${error ? ` ${error}` : ''}; the credentials could not be confirmed.`,
      })
  } catch (err) {
    fail('token_endpoint', err)
  }

  const production = ctx.type === 'production'
  const https = cfg.callbackUrl.startsWith('https://')
  checks.push({
    name: 'redirect_uri',
    status: https || !production ? 'pass' : 'warn',
    message: `Register ${cfg.callbackUrl} as the redirect URI at the provider.`,
  })

  return {
    object: 'oauth_provider_test_result',
    oauth_provider_id: row.id,
    ok: !checks.some((c) => c.status === 'fail'),
    checked_at: ctx.clock.now(),
    callback_url: cfg.callbackUrl,
    checks,
  }
}
