import { withTx } from '../../db/tx'
import { findByState } from '../../domain/challenges/service'
import { type ClientActor, ensureClient, updateClient } from '../../domain/clients/service'
import { loadConnection } from '../../domain/enterprise-sso/connections'
import { connectionUnavailable, ssoVerificationFailed } from '../../domain/enterprise-sso/errors'
import {
  authnRequestUrl,
  consumeResponse,
  spMetadata,
  validateResponse,
} from '../../domain/enterprise-sso/saml-sp'
import type { EnterpriseConnectionRow } from '../../domain/enterprise-sso/schema'
import { isAllowedRedirect } from '../../domain/redirects/service'
import { insertSignIn } from '../../domain/sign-ins/store'
import { findUser } from '../../domain/users/service'
import { notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { assertNoSessionConflict } from '../sign-in/conflicts'
import { completeExternalVerification, externalStateInvalid } from '../sign-in/external'
import { afterFirstFactor } from '../sign-in/machine'
import { provisionEnterpriseUser } from './provision'

/**
 * The browser side of SAML connections: our SP metadata, the hop that sends the browser to the
 * IdP with an AuthnRequest, and the ACS the IdP posts back to (SP-initiated sign-ins complete
 * through the external verification of their sign-in; IdP-initiated ones, where allowed, start
 * and complete a sign-in of their own).
 */

const STRATEGY = 'enterprise_sso'

function liveSaml(ctx: EnvContext, id: string): EnterpriseConnectionRow {
  const row = loadConnection(ctx.db, id)
  if (!row?.active || row.protocol !== 'saml') throw connectionUnavailable()
  return row
}

export function samlMetadata(ctx: EnvContext, id: string): string {
  const row = loadConnection(ctx.db, id)
  if (row?.protocol !== 'saml') throw notFound('SAML connection')
  return spMetadata(ctx, row)
}

/** `GET /v1/saml/{id}/start?state=`: the sign-in's challenge, on to the IdP (RelayState = state). */
export async function startSaml(ctx: EnvContext, id: string, state: string): Promise<string> {
  const row = liveSaml(ctx, id)
  const c = findByState(ctx, state)
  const expected = `${ctx.frontendUrl()}/v1/saml/${row.id}/start?state=${encodeURIComponent(state)}`
  if (
    !c ||
    c.strategy !== STRATEGY ||
    c.status !== 'unverified' ||
    ctx.clock.now() >= c.expireAt ||
    c.externalUrl !== expected
  )
    throw externalStateInvalid()
  return authnRequestUrl(ctx, row, c.id, state)
}

export interface AcsForm {
  SAMLResponse: string
  RelayState?: string
  /** Set by our own re-post page: the browser has been given its chance to send the cookie. */
  reposted: boolean
}

export type AcsOutcome = { redirect: string } | { repost: true }

/**
 * `POST /v1/saml/{id}/acs`. The IdP's form post is cross-site, so a SameSite=Lax client cookie
 * does not come with it: without a cookie we answer a page that posts the same form to us again,
 * same-site this time, and the cookie comes along.
 */
export async function samlAcs(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  form: AcsForm,
): Promise<AcsOutcome> {
  const row = liveSaml(ctx, id)
  if (!actor.client && !form.reposted) return { repost: true }
  const relay = form.RelayState ?? ''
  const c = relay ? findByState(ctx, relay) : null
  if (c && c.strategy === STRATEGY) {
    const params = new URLSearchParams({ SAMLResponse: form.SAMLResponse, connection_id: row.id })
    return { redirect: await completeExternalVerification(ctx, actor, relay, params) }
  }
  return { redirect: await idpInitiated(ctx, actor, row, form.SAMLResponse, relay) }
}

/**
 * An unsolicited response (the person started at the IdP): only where the connection allows it,
 * with the replay cache and a short assertion age; the RelayState is only a redirect target, and
 * only an allowed one.
 */
async function idpInitiated(
  ctx: EnvContext,
  actor: ClientActor,
  row: EnterpriseConnectionRow,
  samlResponse: string,
  relay: string,
): Promise<string> {
  if (!row.allowIdpInitiated)
    throw ssoVerificationFailed(
      'This connection does not accept sign-ins started at the identity provider. Start signing in from the application.',
    )
  const validated = await validateResponse(ctx, row, samlResponse)
  const userId = withTx(ctx, (tx) => {
    const refused = consumeResponse(tx, ctx, row, validated, null)
    if (refused) throw ssoVerificationFailed(`The identity provider's answer was refused: ${refused}.`)
    return provisionEnterpriseUser(tx, ctx, row, validated.identity)
  })
  const user = findUser(ctx, userId)
  if (!user) throw externalStateInvalid()
  const signIn = withTx(ctx, (tx) => {
    const client = ensureClient(tx, ctx, actor)
    assertNoSessionConflict(tx, ctx, client.id, userId)
    const created = insertSignIn(tx, ctx, {
      clientId: client.id,
      status: 'needs_first_factor',
      identifier: null,
      userId,
      firstFactorStrategy: STRATEGY,
    })
    updateClient(tx, ctx, actor, { signInId: created.id })
    return afterFirstFactor(tx, ctx, actor, created, user, STRATEGY)
  })
  const target = relay && isAllowedRedirect(ctx, relay, actor.frontendUrl) ? relay : ctx.frontendUrl()
  const url = new URL(target)
  url.searchParams.set('__authn_status', signIn.status === 'complete' ? 'verified' : signIn.status)
  if (signIn.createdSessionId) url.searchParams.set('__authn_created_session', signIn.createdSessionId)
  return url.href
}

/** `GET /v1/enterprise-sso-callback`: the OIDC connection is found by `state`. */
export const oidcCallback = (ctx: EnvContext, actor: ClientActor, params: URLSearchParams) =>
  completeExternalVerification(ctx, actor, params.get('state') ?? '', params)
