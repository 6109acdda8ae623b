import { createOauthApplication } from '../../domain/oauth/service'
import { AppError } from '../../lib/errors'
import { isExcess, measureJsonText } from '../../lib/json-limits'
import type { EnvContext } from '../../tenancy/context'
import { OAuthError } from './errors'

/**
 * RFC 7591 dynamic client registration (`POST /oauth/register`), off unless the instance turns
 * it on: a public client (an MCP agent, a native app) registers itself. Only public clients
 * (`token_endpoint_auth_method: none`), only the code flow; consent is always shown to them.
 */

const metadataError = (why: string) => new OAuthError('invalid_client_metadata', why)

const strings = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw metadataError(`${name} must be an array of strings.`)
  return v as string[]
}
const text = (v: unknown, name: string, max: number): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v.length > max)
    throw metadataError(`${name} must be a string of at most ${max} characters.`)
  return v
}

export async function registerClient(ctx: EnvContext, request: Request) {
  if (!ctx.settings().oauth_provider.dynamic_client_registration)
    throw new AppError(404, [
      {
        code: 'registration_disabled',
        message: 'Dynamic client registration is not enabled for this environment.',
        meta: { oauth_error: 'invalid_request' },
      },
    ])
  if (!request.headers.get('content-type')?.toLowerCase().startsWith('application/json'))
    throw metadataError('The body must be application/json.')
  const raw = await request.text()
  if (isExcess(measureJsonText(raw, { maxDepth: 8, maxValues: 200 })))
    throw metadataError('The metadata is too large.')
  let m: Record<string, unknown>
  try {
    m = JSON.parse(raw)
  } catch {
    throw metadataError('The body is not valid JSON.')
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw metadataError('The body must be a JSON object.')
  const redirectUris = strings(m.redirect_uris, 'redirect_uris')
  if (!redirectUris?.length)
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must name at least one URI.')
  if (redirectUris.length > 20) throw new OAuthError('invalid_redirect_uri', 'At most 20 redirect URIs.')
  const method = text(m.token_endpoint_auth_method, 'token_endpoint_auth_method', 64) ?? 'none'
  if (method !== 'none')
    throw metadataError('Only public clients may register: token_endpoint_auth_method must be none.')
  const grants = strings(m.grant_types, 'grant_types') ?? ['authorization_code']
  if (grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token'))
    throw metadataError('grant_types may be authorization_code and refresh_token.')
  const responses = strings(m.response_types, 'response_types') ?? ['code']
  if (responses.some((r) => r !== 'code')) throw metadataError('response_types may only be code.')
  const name = text(m.client_name, 'client_name', 256) ?? 'Unnamed application'
  const scope = text(m.scope, 'scope', 1024)
  try {
    const app = createOauthApplication(ctx, {
      name,
      redirect_uris: redirectUris,
      scopes: scope,
      is_public: true,
      homepage_url: text(m.client_uri, 'client_uri', 2048) ?? null,
      logo_url: text(m.logo_uri, 'logo_uri', 2048) ?? null,
      dynamically_registered: true,
    })
    return {
      client_id: app.client_id,
      client_id_issued_at: Math.floor(app.created_at / 1000),
      client_name: app.name,
      redirect_uris: app.redirect_uris,
      grant_types: grants,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: app.scopes,
      ...(app.homepage_url ? { client_uri: app.homepage_url } : {}),
      ...(app.logo_url ? { logo_uri: app.logo_url } : {}),
    }
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500) throw e
    const param = e.items[0]?.meta?.param_name
    const why = e.items[0]?.long_message ?? e.message
    throw param === 'redirect_uris' ? new OAuthError('invalid_redirect_uri', why) : metadataError(why)
  }
}
