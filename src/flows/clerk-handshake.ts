import { createHash } from 'node:crypto'
import { signDevBrowserToken, verifyDevBrowserToken } from '../crypto/dev-browser-token'
import { signJws } from '../crypto/jws'
import type { ClientActor } from '../domain/clients/service'
import { assertAllowedRedirect } from '../domain/redirects/service'
import { currentSession, mintSessionToken } from '../domain/sessions/service'
import { AppError, formParamMissing } from '../lib/errors'
import { newId } from '../lib/ids'
import type { EnvContext } from '../tenancy/context'
import { publishableKey } from '../tenancy/env-store'
import { isLocalHost } from '../tenancy/pool'

/**
 * The handshake as Clerk's server SDKs (`@clerk/backend`'s authenticateRequest) drive it: the
 * app's server redirects a page load here when its `__session` cookie is missing or stale, and
 * we redirect back with `__clerk_handshake`, a JWT signed with the env key whose `handshake`
 * array holds the Set-Cookie directives the SDK replays on the app's origin: `__session` and
 * `__client_uat` (with `_<suffix>` twins when the SDK asks for suffixed cookies) and, for a
 * development env, `__clerk_db_jwt`. Our own SDKs keep the `__authn_*` handshake (links.ts).
 */
export interface ClerkHandshakeQuery {
  redirect_url?: string
  suffixed_cookies?: string
  __clerk_hs_reason?: string
  format?: string
  __session?: string
  organization_id?: string
}

/** How long a handshake payload may sit in a redirect before the app's server consumes it. */
const HANDSHAKE_TTL_S = 60
const YEAR_S = 31_536_000

/** Clerk's cookie suffix: the first 8 characters of base64url(SHA-1(publishable key)). */
export function cookieSuffix(ctx: EnvContext): string {
  const pk = publishableKey(ctx.type, new URL(ctx.frontendUrl()).host)
  return createHash('sha1').update(pk).digest('base64').replaceAll('+', '-').replaceAll('/', '_').slice(0, 8)
}

const devBrowserRefused = () =>
  new AppError(401, [
    {
      code: 'dev_browser_unauthenticated',
      message: 'dev browser unauthenticated',
      long_message: 'The development browser token is not one of this environment.',
    },
  ])

/**
 * `POST /v1/dev_browser`: a development browser's token (Clerk's SDKs keep it as the
 * `__clerk_db_jwt` cookie and query parameter). Production envs have no dev browsers.
 */
export function createDevBrowser(ctx: EnvContext) {
  if (ctx.type !== 'development') {
    throw new AppError(400, [
      {
        code: 'request_invalid_for_environment',
        message: 'not available in production',
        long_message: 'Development browsers exist only in development environments.',
      },
    ])
  }
  const id = newId('devBrowser')
  const token = signDevBrowserToken(ctx.dataKey, id, ctx.clock.now())
  return { object: 'dev_browser' as const, id: token, token }
}

export async function clerkHandshake(
  ctx: EnvContext,
  actor: ClientActor,
  q: ClerkHandshakeQuery,
  devBrowser: string | undefined,
): Promise<string> {
  if (!q.redirect_url) throw formParamMissing('redirect_url')
  assertAllowedRedirect(ctx, q.redirect_url, actor.frontendUrl)
  const development = ctx.type === 'development'
  if (devBrowser !== undefined && (!development || !verifyDevBrowserToken(ctx.dataKey, devBrowser))) {
    throw devBrowserRefused()
  }
  const target = new URL(q.redirect_url)
  const now = ctx.clock.now()
  const secure = !isLocalHost(target.hostname)
  const attrs = `Path=/; SameSite=Lax${secure ? '; Secure' : ''}`
  const session = currentSession(ctx, actor.client, null)
  const suffix = q.suffixed_cookies === 'true' ? cookieSuffix(ctx) : null
  const both = (name: string, rest: string) => [
    `${name}=${rest}`,
    ...(suffix ? [`${name}_${suffix}=${rest}`] : []),
  ]
  const directives: string[] = []
  if (session) {
    const jwt = await mintSessionToken(ctx, session, target.origin)
    directives.push(...both('__session', `${jwt}; ${attrs}`))
    directives.push(...both('__client_uat', `${Math.floor(now / 1000)}; ${attrs}; Max-Age=${YEAR_S}`))
  } else {
    directives.push(...both('__session', `; ${attrs}; Max-Age=0`))
    directives.push(...both('__client_uat', `0; ${attrs}; Max-Age=${YEAR_S}`))
  }
  if (development) {
    const token = devBrowser ?? createDevBrowser(ctx).token
    directives.push(...both('__clerk_db_jwt', `${token}; ${attrs}; Max-Age=${YEAR_S}`))
  }
  const key = ctx.keys.signingKey(now)
  const iat = Math.floor(now / 1000)
  const payload = signJws(
    key.alg,
    key.privateKey,
    { kid: key.kid, typ: 'JWT' },
    { handshake: directives, iss: ctx.frontendUrl(), iat, exp: iat + HANDSHAKE_TTL_S },
  )
  target.searchParams.set('__clerk_handshake', payload)
  return target.href
}
