import type { OauthApplicationRow } from '../../domain/oauth/schema'
import { applicationByClientId, secretMatches } from '../../domain/oauth/service'
import type { EnvContext } from '../../tenancy/context'
import { invalidClient, invalidRequest } from './errors'
import type { Params } from './params'

/** RFC 6749 §2.3.1 / Appendix B: each half of Basic credentials is form-url-encoded. */
const formDecode = (s: string) => decodeURIComponent(s.replaceAll('+', ' '))

function basicCredentials(header: string): { id: string; secret: string } {
  let decoded: string
  try {
    decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  } catch {
    throw invalidClient('The Basic credentials are malformed.')
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) throw invalidClient('The Basic credentials are malformed.')
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    throw invalidClient('The Basic credentials are malformed.')
  }
}

/**
 * Client authentication at the token, introspection and revocation endpoints: exactly one of
 * client_secret_basic, client_secret_post, or `none` (client_id alone, public apps only).
 * `requireSecret`: introspection takes confidential clients only.
 */
export function authenticateClient(
  ctx: EnvContext,
  request: Request,
  form: Params,
  opts: { requireSecret?: boolean } = {},
): OauthApplicationRow {
  const header = request.headers.get('authorization')
  const basic = header?.toLowerCase().startsWith('basic ') ? basicCredentials(header) : null
  const bodyId = form.get('client_id')
  const bodySecret = form.get('client_secret')
  if (basic && bodySecret !== undefined)
    throw invalidRequest(
      'Use one client authentication method: the Authorization header or the body, not both.',
    )
  if (basic && bodyId !== undefined && bodyId !== basic.id)
    throw invalidRequest('client_id in the body differs from the one in the Authorization header.')
  const id = basic?.id ?? bodyId
  const secret = basic?.secret ?? bodySecret
  if (!id) throw invalidClient('The client did not authenticate.')
  const app = applicationByClientId(ctx, id)
  if (!app) throw invalidClient()
  if (app.isPublic) {
    if (secret !== undefined) throw invalidClient('A public client authenticates with its client_id only.')
    if (opts.requireSecret) throw invalidClient('Only confidential clients may use this endpoint.')
    return app
  }
  if (secret === undefined || !secretMatches(app, secret)) throw invalidClient()
  return app
}
