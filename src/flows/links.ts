import { signJws } from '../crypto/jws'
import { withTx } from '../db/tx'
import { findByLinkToken, markVerified } from '../domain/challenges/service'
import type { ClientActor } from '../domain/clients/service'
import { assertAllowedRedirect } from '../domain/redirects/service'
import { currentSession, mintSessionToken } from '../domain/sessions/service'
import { AppError, formParamMissing } from '../lib/errors'
import type { EnvContext } from '../tenancy/context'
import type { EnvTx } from '../tenancy/open'
import { isLocalHost } from '../tenancy/pool'
import { verifyContactByLink } from './account/identifiers'
import { completeSignInByLink } from './sign-in/machine'
import { completeSignUpByLink } from './sign-up/machine'

const withParams = (url: string, params: Record<string, string | null>) => {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v)
  return u.toString()
}

/** What opening a verified link does to its parent; the created session's id, if any. */
const COMPLETIONS: Partial<
  Record<
    string,
    (
      tx: EnvTx,
      ctx: EnvContext,
      here: ClientActor | null,
      c: Parameters<typeof completeSignInByLink>[3],
    ) => string | null
  >
> = {
  sign_in: completeSignInByLink,
  sign_up: completeSignUpByLink,
  email_address: (tx, ctx, _here, c) => {
    verifyContactByLink(tx, ctx, c)
    return null
  },
}

/**
 * Opening a magic link (`/v1/client/handshake?__authn_ticket=…`): verifies the challenge,
 * completes its sign-in or sign-up on the client that asked for it, and answers where to send
 * the browser (the flow's redirect_url with `__authn_status` and `__authn_created_session`).
 * Opened in another browser, it completes the originating client (whose tab sees it by
 * polling) unless the instance requires the same client.
 */
export function openEmailLink(ctx: EnvContext, actor: ClientActor, token: string): string {
  const c = findByLinkToken(ctx, token)
  if (!c?.redirectUrl) {
    throw new AppError(400, [
      {
        code: 'verification_link_token_invalid',
        message: 'invalid link',
        long_message: 'This link is invalid.',
      },
    ])
  }
  const now = ctx.clock.now()
  const back = (status: string, session: string | null = null) =>
    withParams(c.redirectUrl!, { __authn_status: status, __authn_created_session: session })
  if (c.status === 'verified') return back('verified')
  if (c.status === 'failed') return back('failed')
  if (c.status === 'expired' || now >= c.expireAt) return back('expired')
  const sameClient = !!actor.client && actor.client.id === c.clientId
  if (!sameClient && c.parentType !== 'email_address' && ctx.settings().email_link_require_same_client)
    return back('client_mismatch')
  const here = sameClient ? actor : null
  const createdSession = withTx(ctx, (tx) => {
    markVerified(tx, ctx, c, actor.client?.id ?? null)
    return COMPLETIONS[c.parentType]?.(tx, ctx, here, c) ?? null
  })
  return back('verified', createdSession)
}

/** How long a handshake payload may sit in a redirect before the app's server consumes it. */
const HANDSHAKE_TTL_S = 60

/**
 * Cookie sync for server-rendered apps: the app's server redirects here when its session cookie
 * is missing or stale; we answer with a redirect back carrying signed cookie directives
 * (`__authn_handshake`, verifiable with the env's JWKS): a fresh session token, or clearing ones.
 */
export async function handshake(
  ctx: EnvContext,
  actor: ClientActor,
  redirectUrl: string | undefined,
): Promise<string> {
  if (!redirectUrl) throw formParamMissing('redirect_url')
  assertAllowedRedirect(ctx, redirectUrl, actor.frontendUrl)
  const now = ctx.clock.now()
  const secure = !isLocalHost(new URL(redirectUrl).hostname)
  const attrs = `Path=/; SameSite=Lax${secure ? '; Secure' : ''}`
  const session = currentSession(ctx, actor.client, null)
  let directives: string[]
  if (session) {
    const jwt = await mintSessionToken(ctx, session, new URL(redirectUrl).origin)
    directives = [
      `__authn_session=${jwt}; ${attrs}`,
      `__authn_client_uat=${Math.floor(now / 1000)}; ${attrs}; Max-Age=31536000`,
    ]
  } else {
    directives = [`__authn_session=; ${attrs}; Max-Age=0`, `__authn_client_uat=0; ${attrs}; Max-Age=31536000`]
  }
  const key = ctx.keys.signingKey(now)
  const iat = Math.floor(now / 1000)
  const payload = signJws(
    key.alg,
    key.privateKey,
    { kid: key.kid, typ: 'JWT' },
    { handshake: directives, iss: ctx.frontendUrl(), iat, exp: iat + HANDSHAKE_TTL_S },
  )
  return withParams(redirectUrl, { __authn_handshake: payload })
}
