import { withTx } from '../../db/tx'
import {
  type ChallengeRow,
  failChallenge,
  findByState,
  markVerified,
  toChallengeResource,
} from '../../domain/challenges/service'
import type { ClientActor } from '../../domain/clients/service'
import {
  accountByIdentity,
  accountOfUserAt,
  accountsOfUser,
  accountTaken,
  type ExternalAccountRow,
  linkAccount,
  requireOwnAccount,
  storeTokens,
  toExternalAccountResource,
  unlinkAccount,
  unsealTokens,
} from '../../domain/external-accounts/service'
import {
  liveProviders,
  type OauthProviderRow,
  peekFlow,
  providerById,
  takeFlow,
} from '../../domain/oauth-providers/service'
import {
  providerConfig,
  refreshTokens,
  revokeToken,
  UpstreamError,
} from '../../domain/oauth-providers/upstream'
import { assertAllowedRedirect } from '../../domain/redirects/service'
import { currentSession } from '../../domain/sessions/service'
import { emitUserUpdated, findUser } from '../../domain/users/service'
import { AppError, formError, formParamMissing, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { SignedIn } from '../account/signed-in'
import { factorsOf } from '../factors'
import { finishFlow, startFlow } from '../factors/oauth'
import { externalStateInvalid } from '../sign-in/external'

/**
 * The signed-in user's external accounts (`/v1/me/external-accounts`): list, get, unlink (not
 * the last way to sign in; the provider's token revoked best-effort after the commit), and
 * connecting another provider from the profile (a redirect, completed by the same callback).
 * Also the provider access tokens the customer's backend asks for, refreshed when expired.
 */

export const myExternalAccounts = (ctx: EnvContext, me: SignedIn) =>
  accountsOfUser(ctx.db, me.user.user.id).map(toExternalAccountResource)

export const myExternalAccount = (ctx: EnvContext, me: SignedIn, id: string) =>
  toExternalAccountResource(requireOwnAccount(ctx.db, me.user.user.id, id))

const lastWay = () =>
  new AppError(409, [
    {
      code: 'external_account_last_sign_in_method',
      message: 'last way to sign in',
      long_message:
        'This account is your only way to sign in. Add a password, a verified email address or another connected account first.',
    },
  ])

/**
 * Could the user still sign in without this external account: a first factor they can use
 * (a password they have, a code to a verified address, under the env's settings), or another
 * connected account at a provider that signs people in?
 */
function otherWayToSignIn(ctx: EnvContext, me: SignedIn, without: ExternalAccountRow): boolean {
  const local = factorsOf(ctx).some(
    (f) => f.kind === 'first' && f.answer !== 'redirect' && f.options(ctx, me.user).length > 0,
  )
  if (local) return true
  const usable = new Set(
    liveProviders(ctx)
      .filter((p) => p.enabled && p.authenticatable)
      .map((p) => p.id),
  )
  return accountsOfUser(ctx.db, me.user.user.id).some(
    (a) => a.id !== without.id && usable.has(a.oauthProviderId),
  )
}

export function unlinkMyExternalAccount(ctx: EnvContext, me: SignedIn, id: string) {
  const row = requireOwnAccount(ctx.db, me.user.user.id, id)
  if (!otherWayToSignIn(ctx, me, row)) throw lastWay()
  const provider = providerById(ctx, row.oauthProviderId)
  const tokens = unsealTokens(ctx, row)
  return withTx(ctx, (tx, after) => {
    unlinkAccount(tx, ctx, row)
    emitUserUpdated(tx, ctx, row.userId)
    const token = tokens.refreshToken ?? tokens.accessToken
    if (provider && token) after(() => revokeToken(providerConfig(ctx, provider), token))
    return { object: 'external_account' as const, id: row.id, deleted: true as const }
  })
}

/** `POST /v1/me/external-accounts {strategy, redirect_url}`: starts connecting a provider. */
export function connectExternalAccount(
  ctx: EnvContext,
  actor: ClientActor,
  me: SignedIn,
  input: { strategy: string; redirect_url?: string },
) {
  if (!input.redirect_url) throw formParamMissing('redirect_url')
  assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
  const row = liveProviders(ctx).find((p) => p.enabled && `oauth_${p.providerKey}` === input.strategy)
  if (!row)
    throw formError(
      'strategy_for_user_invalid',
      'strategy',
      'is invalid',
      `${input.strategy} is not an enabled social provider of this instance.`,
    )
  const challenge = withTx(ctx, (tx) => {
    const { challenge } = startFlow(
      tx,
      ctx,
      row,
      { type: 'session', id: me.session.id, clientId: actor.client?.id ?? null },
      input.redirect_url!,
      { kind: 'connect', userId: me.user.user.id },
    )
    return challenge
  })
  return toChallengeResource(challenge, ctx.clock.now())
}

/** Is this callback's state a profile connection (not a sign-in)? */
export function connectionOf(ctx: EnvContext, state: string): ChallengeRow | null {
  const c = findByState(ctx, state)
  if (c?.parentType !== 'session') return null
  return peekFlow(ctx, c.id)?.intent === 'connect' ? c : null
}

/**
 * The callback of a connection: the same browser, still signed in as the user who started it,
 * gets the identity attached to their account (409-style `?error=` when it is someone else's).
 */
export async function completeConnection(
  ctx: EnvContext,
  actor: ClientActor,
  c: ChallengeRow,
  params: URLSearchParams,
): Promise<string> {
  const back = (status: string, error: string | null = null) => {
    const url = new URL(c.redirectUrl ?? ctx.frontendUrl())
    url.searchParams.set('__authn_status', status)
    if (error) url.searchParams.set('error', error)
    return url.toString()
  }
  if (c.status !== 'unverified') throw externalStateInvalid()
  if (ctx.clock.now() >= c.expireAt) return back('expired')
  const flow = peekFlow(ctx, c.id)
  const session = currentSession(ctx, actor.client, c.parentId)
  if (!flow?.userId || !actor.client || actor.client.id !== c.clientId || session?.userId !== flow.userId)
    return back('client_mismatch')
  let done: Awaited<ReturnType<typeof finishFlow>>
  try {
    done = await finishFlow(ctx, c.id, params)
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err
    withTx(ctx, (tx) => {
      takeFlow(tx, c.id)
      failChallenge(tx, ctx, c)
    })
    return back('failed', err.code)
  }
  const userId = flow.userId
  const result = withTx(ctx, (tx) => {
    if (!takeFlow(tx, c.id)) throw externalStateInvalid()
    const existing = accountByIdentity(tx, done.row.id, done.profile.providerUserId)
    if (existing && existing.userId !== userId) {
      failChallenge(tx, ctx, c)
      return accountTaken().items[0]!.code
    }
    if (!existing) {
      linkAccount(tx, ctx, {
        userId,
        providerId: done.row.id,
        provider: done.row.providerKey,
        profile: done.profile,
        tokens: done.tokens,
      })
      emitUserUpdated(tx, ctx, userId)
    }
    markVerified(tx, ctx, c, actor.client?.id ?? null)
    return null
  })
  return result ? back('failed', result) : back('verified')
}

// ---- provider tokens for the customer's backend ------------------------------------------

/** Refresh a little before the provider's expiry, so the token handed out is still good. */
const EXPIRY_MARGIN_MS = 60_000

/**
 * `GET /v1/users/{id}/oauth-access-tokens/{provider}` (BAPI): the user's access token at the
 * provider (`google` or `oauth_google`), refreshed first when it has expired and a refresh
 * token exists.
 */
export async function oauthAccessTokens(ctx: EnvContext, userId: string, provider: string) {
  if (!findUser(ctx, userId)) throw notFound('user')
  const key = provider.startsWith('oauth_') ? provider.slice('oauth_'.length) : provider
  const account = accountOfUserAt(ctx.db, userId, key)
  if (!account) return { data: [], total_count: 0 }
  const row: OauthProviderRow | null = providerById(ctx, account.oauthProviderId)
  let tokens = unsealTokens(ctx, account)
  let scopes = account.approvedScopes.split(' ').filter(Boolean)
  const now = ctx.clock.now()
  if (row && tokens.refreshToken && tokens.expiresAt !== null && tokens.expiresAt - EXPIRY_MARGIN_MS <= now) {
    try {
      const fresh = await refreshTokens(providerConfig(ctx, row), tokens.refreshToken, now)
      storeTokens(ctx, account, fresh)
      tokens = {
        accessToken: fresh.accessToken,
        refreshToken: fresh.refreshToken,
        expiresAt: fresh.expiresAt,
      }
      scopes = fresh.scopes
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      throw new AppError(422, [
        {
          code: 'oauth_token_refresh_failed',
          message: 'refresh failed',
          long_message: `The provider refused to refresh the token (${err.message}); the user must sign in with it again.`,
        },
      ])
    }
  }
  if (!tokens.accessToken) return { data: [], total_count: 0 }
  return {
    data: [
      {
        object: 'oauth_access_token' as const,
        external_account_id: account.id,
        provider: `oauth_${account.provider}`,
        provider_user_id: account.providerUserId,
        token: tokens.accessToken,
        scopes,
        expires_at: tokens.expiresAt,
      },
    ],
    total_count: 1,
  }
}
