import { eq } from 'drizzle-orm'
import { SignJWT } from 'jose'
import { withTx } from '../../db/tx'
import { AppError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { isLocalHost } from '../../tenancy/pool'
import { findByLinkToken, markVerified } from '../challenges/service'
import { type ClientActor, currentSession } from '../clients/service'
import { markEmailVerified } from '../me/service'
import { assertAllowedRedirect } from '../redirects/service'
import { mintSessionToken } from '../sessions/service'
import { signIns } from '../sign-ins/schema'
import { completeSignIn } from '../sign-ins/service'
import { signUps } from '../sign-ups/schema'
import { completeIfReady, ticketForSignUp, verifyField } from '../sign-ups/service'
import { findUser } from '../users/service'

const withParams = (url: string, params: Record<string, string | null>) => {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v)
  return u.toString()
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
  let createdSession: string | null = null
  withTx(ctx, (tx) => {
    markVerified(tx, ctx, c, actor.client?.id ?? null)
    if (c.parentType === 'sign_in') {
      const signIn = tx.select().from(signIns).where(eq(signIns.id, c.parentId)).get()
      if (
        signIn?.status === 'needs_first_factor' &&
        signIn.firstFactorChallengeId === c.id &&
        signIn.userId
      ) {
        const agg = findUser(ctx, signIn.userId)
        if (agg && !agg.user.banned)
          createdSession = completeSignIn(
            tx,
            ctx,
            here,
            signIn,
            agg.user.id,
            'email_link',
            false,
          ).createdSessionId
      }
    } else if (c.parentType === 'sign_up') {
      const r = tx.select().from(signUps).where(eq(signUps.id, c.parentId)).get()
      if (r?.status === 'missing_requirements' && r.emailChallengeId === c.id) {
        createdSession = completeIfReady(
          tx,
          ctx,
          here,
          verifyField(tx, ctx, r, 'email_link'),
          ticketForSignUp(ctx, r),
        ).createdSessionId
      }
    } else if (c.parentType === 'email_address') {
      markEmailVerified(tx, ctx, c.parentId, 'email_link')
    }
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
  const payload = await new SignJWT({ handshake: directives })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(ctx.frontendUrl())
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + HANDSHAKE_TTL_S)
    .sign(key.privateKey)
  return withParams(redirectUrl, { __authn_handshake: payload })
}
