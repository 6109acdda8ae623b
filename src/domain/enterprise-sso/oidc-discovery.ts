import * as oauth from 'oauth4webapi'
import type { EnvContext } from '../../tenancy/context'
import { fetchFailed } from './errors'
import { checkOutboundUrl, FETCH_TIMEOUT_MS } from './idp-config'

/** oauth4webapi refuses plain http; development envs may talk to an IdP on loopback. */
export const insecureAllowed = (ctx: EnvContext, url: URL) =>
  ctx.type === 'development' && url.protocol === 'http:'

export const requestOptions = (ctx: EnvContext, url: URL) => ({
  signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  ...(insecureAllowed(ctx, url) ? { [oauth.allowInsecureRequests]: true } : {}),
})

/**
 * The issuer's OpenID discovery document, checked by oauth4webapi (issuer string-equal to the
 * configured one) and for what a code flow needs.
 */
export async function discoverIssuer(
  ctx: EnvContext,
  raw: string,
  param = 'oidc_discovery_url',
): Promise<{ issuer: string; metadata: oauth.AuthorizationServer }> {
  // Accept either the issuer or its /.well-known/openid-configuration URL.
  const issuerUrl = checkOutboundUrl(ctx, raw.replace(/\/\.well-known\/openid-configuration\/?$/, ''), param)
  let metadata: oauth.AuthorizationServer
  try {
    const res = await oauth.discoveryRequest(issuerUrl, {
      algorithm: 'oidc',
      ...requestOptions(ctx, issuerUrl),
    })
    metadata = await oauth.processDiscoveryResponse(issuerUrl, res)
  } catch (e) {
    const why =
      e instanceof Error && e.name === 'TimeoutError'
        ? 'timed out'
        : e instanceof Error
          ? e.message
          : 'unreachable'
    throw fetchFailed(param, 'The OpenID discovery document', why)
  }
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (typeof metadata[field] !== 'string')
      throw fetchFailed(param, 'The OpenID discovery document', `it has no ${field}`)
  }
  return { issuer: metadata.issuer, metadata }
}
