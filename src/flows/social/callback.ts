import { withTx } from '../../db/tx'
import { failChallenge, findByState } from '../../domain/challenges/service'
import type { ClientActor } from '../../domain/clients/service'
import { liveProviders } from '../../domain/oauth-providers/service'
import { oauthFactors } from '../factors/oauth'
import { completeExternalVerification, externalStateInvalid } from '../sign-in/external'
import { completeConnection, connectionOf } from './account'

/**
 * `GET /v1/oauth-callback/{provider_key}`: the provider sends the browser back here. The opaque
 * `state` finds the challenge (and its server-side flow); it must belong to this provider. A
 * provider disabled or deleted meanwhile fails the sign-in, and the browser goes back to the
 * app with `?error=`; everything else completes through the sign-in's external verification.
 */
export async function oauthCallback(
  ctx: Parameters<typeof completeExternalVerification>[0],
  actor: ClientActor,
  providerKey: string,
  params: URLSearchParams,
): Promise<string> {
  const state = params.get('state')
  const c = state ? findByState(ctx, state) : null
  if (!state || !c?.externalUrl || c.strategy !== `oauth_${providerKey}`) throw externalStateInvalid()
  const connection = connectionOf(ctx, state)
  const live = connection
    ? liveProviders(ctx).some((p) => p.enabled && `oauth_${p.providerKey}` === c.strategy)
    : oauthFactors(ctx).some((f) => f.strategy === c.strategy)
  if (!live && c.status === 'unverified') {
    withTx(ctx, (tx) => failChallenge(tx, ctx, c))
    const back = new URL(c.redirectUrl ?? ctx.frontendUrl())
    back.searchParams.set('__authn_status', 'failed')
    back.searchParams.set('error', 'external_provider_disabled')
    return back.toString()
  }
  if (connection) return completeConnection(ctx, actor, connection, params)
  return completeExternalVerification(ctx, actor, state, params)
}

/**
 * Apple answers with a cross-site form POST, which carries no SameSite=Lax cookie: the same
 * parameters go on to the GET callback (a top-level navigation, which has the client cookie).
 */
export function formPostToGet(url: string, body: string): string {
  const target = new URL(url)
  target.search = new URLSearchParams(body).toString()
  return target.toString()
}
