import { KNOWN_SCOPES } from '../../domain/oauth/scopes'
import { OAUTH_PATHS } from '../../domain/oauth/service'
import type { EnvContext } from '../../tenancy/context'
import { CLAIMS_SUPPORTED } from './claims'

/**
 * The authorization server's metadata (OIDC Discovery 1.0 §3, RFC 8414 §2), the same at
 * /.well-known/openid-configuration and /.well-known/oauth-authorization-server. `issuer` is
 * the frontend origin the request reached, byte-identical to every token's `iss`.
 */
export function discoveryDocument(ctx: EnvContext, issuer: string) {
  const alg = ctx.keys.signingKey(ctx.clock.now()).alg
  const at = (path: string) => issuer + path
  return {
    issuer,
    authorization_endpoint: at(OAUTH_PATHS.authorize),
    token_endpoint: at(OAUTH_PATHS.token),
    userinfo_endpoint: at(OAUTH_PATHS.userinfo),
    jwks_uri: at(OAUTH_PATHS.jwks),
    introspection_endpoint: at(OAUTH_PATHS.introspection),
    revocation_endpoint: at(OAUTH_PATHS.revocation),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(['RS256', alg])],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: KNOWN_SCOPES,
    claims_supported: CLAIMS_SUPPORTED,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
  }
}
