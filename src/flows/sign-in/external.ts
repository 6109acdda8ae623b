import { withTx } from '../../db/tx'
import {
  type ChallengeRow,
  failChallenge,
  findByState,
  markTransferable,
  markVerified,
} from '../../domain/challenges/service'
import type { ClientActor } from '../../domain/clients/service'
import { findSignIn, updateSignIn } from '../../domain/sign-ins/store'
import { assertMaySignIn } from '../../domain/users/lockout'
import { findUser } from '../../domain/users/service'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type FactorOutcome, factorOfStrategy } from '../factors'
import { applyExternalToSignUp } from '../sign-up/machine'
import { afterFirstFactor } from './machine'

/**
 * The way back from an external provider (a social provider's or an enterprise IdP's callback):
 * the opaque `state` finds the challenge its redirect factor issued; the factor completes the
 * verification (token exchange, assertion checks); the sign-in then completes through the
 * session door, or, for an identity no user has, becomes transferable to a sign-up.
 */

export const externalStateInvalid = () =>
  new AppError(400, [
    {
      code: 'external_verification_state_invalid',
      message: 'invalid state',
      long_message: 'This sign-in link is invalid or was already used. Start signing in again.',
    },
  ])

const withParams = (url: string, params: Record<string, string | null>) => {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v)
  return u.toString()
}

/** Applies a factor's outcome to the sign-in the challenge belongs to; the created session, if any. */
function applyToSignIn(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor,
  c: ChallengeRow,
  strategy: string,
  outcome: FactorOutcome,
): { status: string; session: string | null; error?: string } {
  const signIn = findSignIn(tx, c.parentId)
  if (!signIn || signIn.firstFactorChallengeId !== c.id || signIn.status === 'complete') {
    throw externalStateInvalid()
  }
  if (outcome.kind === 'failed') {
    failChallenge(tx, ctx, c)
    return { status: 'failed', session: null, error: outcome.error.items[0]?.code }
  }
  if (outcome.kind === 'transfer') {
    markTransferable(tx, ctx, c, { ...outcome.identity })
    return { status: 'transferable', session: null }
  }
  // The factor found the user itself; an identifier typed earlier must have been theirs.
  if (signIn.userId && signIn.userId !== outcome.userId) throw externalStateInvalid()
  const user = findUser(ctx, outcome.userId)
  if (!user) throw externalStateInvalid()
  assertMaySignIn(user.user, ctx.clock.now())
  outcome.commit?.(tx, ctx)
  markVerified(tx, ctx, c, actor.client?.id ?? null)
  const current = updateSignIn(tx, ctx, signIn, { userId: user.user.id, status: 'needs_first_factor' })
  const done = afterFirstFactor(tx, ctx, actor, current, user, strategy)
  return { status: done.status === 'complete' ? 'verified' : done.status, session: done.createdSessionId }
}

/**
 * Completes an external verification from its callback and answers where the browser goes:
 * the redirect URL the sign-in gave, with `__authn_status` (and `__authn_created_session`). The
 * callback must come back to the browser that started it (the state is bound to its client):
 * otherwise a link crafted by someone else could sign their client in with your account.
 */
export async function completeExternalVerification(
  ctx: EnvContext,
  actor: ClientActor,
  state: string,
  params: URLSearchParams,
): Promise<string> {
  const c = findByState(ctx, state)
  if (!c?.externalUrl) throw externalStateInvalid()
  const back = (status: string, session: string | null = null, error: string | null = null) =>
    withParams(c.redirectUrl ?? ctx.frontendUrl(), {
      __authn_status: status,
      __authn_created_session: session,
      error,
    })
  if (c.status === 'verified' || c.status === 'transferable' || c.status === 'failed')
    throw externalStateInvalid()
  if (c.status === 'expired' || ctx.clock.now() >= c.expireAt) return back('expired')
  if (!actor.client || actor.client.id !== c.clientId) return back('client_mismatch')
  const factor = factorOfStrategy(ctx, c.strategy)
  if (!factor?.callback || (c.parentType !== 'sign_in' && c.parentType !== 'sign_up'))
    throw externalStateInvalid()
  const outcome = await factor.callback(ctx, c, params)
  const result = withTx(ctx, (tx) => {
    if (c.parentType === 'sign_in') return applyToSignIn(tx, ctx, actor, c, factor.strategy, outcome)
    const applied = applyExternalToSignUp(tx, ctx, actor, c, outcome)
    if (!applied) throw externalStateInvalid()
    return applied
  })
  return back(result.status, result.session, result.error ?? null)
}
