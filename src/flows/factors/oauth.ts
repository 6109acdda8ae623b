import { createHash } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { seal, unseal } from '../../crypto/seal'
import { randomToken } from '../../crypto/secrets'
import { issueRedirectChallenge, REDIRECT_TTL_MS } from '../../domain/challenges/service'
import {
  accountByIdentity,
  type ExternalProfile,
  type ExternalTokens,
  linkAccount,
  refreshAccount,
} from '../../domain/external-accounts/service'
import {
  liveProviders,
  type OauthProviderRow,
  peekFlow,
  saveFlow,
  takeFlow,
} from '../../domain/oauth-providers/service'
import {
  authorizationUrl,
  completeAuthorization,
  providerConfig,
  UpstreamError,
} from '../../domain/oauth-providers/upstream'
import { emailOwner, verifiedEmailOwner } from '../../domain/users/identifiers'
import { emitUserUpdated } from '../../domain/users/service'
import { AppError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { registerFactorSource } from './index'
import { notACode } from './shared'
import type { ExternalIdentity, Factor, FactorOutcome } from './types'

/**
 * Social sign-in: one redirect factor `oauth_<provider_key>` per enabled provider of the env
 * (src/domain/oauth-providers). Preparing it stores state, nonce and PKCE verifier server-side
 * (the challenge, found again by the opaque `state`, and its oauth_flows row) and answers the
 * provider's authorization URL; the callback trades the code and resolves the account:
 *
 * 1. the identity (provider, provider_user_id) has an external account → its user signs in
 *    (the stored profile and tokens follow the provider's);
 * 2. the provider asserts the email verified and a user has it verified → linked, then signed in;
 * 3. an email that is someone's but is not verified on both sides → refused, never linked (a
 *    pre-account-takeover: anyone can claim an address at a provider that does not verify);
 * 4. otherwise the sign-in becomes transferable and a sign-up takes the identity over.
 */

const PREFIX = 'oauth_'

const flowAad = (challengeId: string) => `oauth_flows.code_verifier:${challengeId}`
const transferAad = (challengeId: string) => `challenges.payload.tokens:${challengeId}`

export const linkRefused = () =>
  new AppError(422, [
    {
      code: 'external_account_link_refused',
      message: 'account exists',
      long_message:
        'An account with this email address exists, but the provider did not confirm the address is yours. Sign in to that account first and connect the provider from your profile.',
    },
  ])

const failed = (err: unknown): FactorOutcome => {
  if (err instanceof UpstreamError)
    return {
      kind: 'failed',
      error: new AppError(400, [{ code: err.code, message: err.message }], { cause: err }),
    }
  throw err
}

/** The data a transfer carries to the sign-up that takes the identity over. */
interface TransferData {
  providerId: string
  profile: ExternalProfile
  /** Sealed JSON of the provider's tokens (the challenge payload is not encrypted). */
  tokens: string | null
  challengeId: string
}

/** Prepares a provider's authorization request and keeps its secrets server-side (in the caller's transaction). */
export function startFlow(
  tx: EnvTx,
  ctx: EnvContext,
  row: OauthProviderRow,
  parent: { type: 'sign_in' | 'sign_up' | 'session'; id: string; clientId: string | null },
  redirectUrl: string | null,
  intent: { kind: 'sign_in' } | { kind: 'connect'; userId: string },
) {
  const cfg = providerConfig(ctx, row)
  const state = randomToken(32)
  const verifier = cfg.pkce ? oauth.generateRandomCodeVerifier() : null
  const nonce = cfg.protocol === 'oidc' ? oauth.generateRandomNonce() : null
  const url = authorizationUrl(cfg, {
    state,
    nonce,
    codeChallenge: verifier ? createHash('sha256').update(verifier).digest('base64url') : null,
  })
  const challenge = issueRedirectChallenge(tx, ctx, {
    parentType: parent.type,
    parentId: parent.id,
    clientId: parent.clientId,
    step: 'first_factor',
    strategy: `${PREFIX}${row.providerKey}`,
    state,
    externalUrl: url,
    redirectUrl,
  })
  const now = ctx.clock.now()
  saveFlow(tx, {
    challengeId: challenge.id,
    providerId: row.id,
    codeVerifier: verifier ? seal(ctx.dataKey, verifier, flowAad(challenge.id)) : null,
    nonce,
    intent: intent.kind,
    userId: intent.kind === 'connect' ? intent.userId : null,
    expireAt: now + REDIRECT_TTL_MS,
    createdAt: now,
  })
  return { challenge, url }
}

/** Trades the callback's code for the provider's profile and tokens (outside any transaction). */
export async function finishFlow(ctx: EnvContext, challengeId: string, params: URLSearchParams) {
  const flow = peekFlow(ctx, challengeId)
  const row = flow ? liveProviders(ctx).find((p) => p.id === flow.providerId) : undefined
  if (!flow || !row)
    throw new UpstreamError('external_verification_state_invalid', 'This sign-in link is invalid.')
  const cfg = providerConfig(ctx, row)
  const state = params.get('state') ?? ''
  const result = await completeAuthorization(
    cfg,
    params,
    {
      state,
      nonce: flow.nonce,
      codeVerifier: flow.codeVerifier ? unseal(ctx.dataKey, flow.codeVerifier, flowAad(challengeId)) : null,
    },
    ctx.clock.now(),
  )
  return { ...result, flow, row }
}

function oauthFactor(row: OauthProviderRow): Factor {
  const strategy = `${PREFIX}${row.providerKey}`
  const option = { strategy, safe_identifier: null }
  return {
    strategy,
    kind: 'first',
    answer: 'redirect',
    stepUp: false,
    // Anyone may go to the provider: it finds the user (or a new one) itself.
    options: () => [option],
    anonymousOptions: () => [option],
    validatePrepare(_ctx, _actor, input) {
      if (!input.redirect_url) throw formParamMissing('redirect_url')
    },
    prepare({ tx, ctx, parent, input }) {
      // A sign-in, or a sign-up started with the provider (Clerk's `strategy: oauth_<key>`).
      if (parent.type !== 'sign_in' && parent.type !== 'sign_up') throw formParamMissing('strategy')
      const { challenge, url } = startFlow(
        tx,
        ctx,
        row,
        { type: parent.type, id: parent.id, clientId: parent.clientId },
        input.redirect_url ?? null,
        { kind: 'sign_in' },
      )
      return { challenge, externalVerificationRedirectUrl: url }
    },
    precheck: async () => {
      throw notACode()
    },
    check: () => false,
    wrongAnswer: notACode,
    async callback(ctx, challenge, params) {
      let done: Awaited<ReturnType<typeof finishFlow>>
      try {
        done = await finishFlow(ctx, challenge.id, params)
      } catch (err) {
        return failed(err)
      }
      const { profile, tokens } = done
      const consume = (tx: EnvTx) => takeFlow(tx, challenge.id)
      const existing = accountByIdentity(ctx.db, row.id, profile.providerUserId)
      if (existing)
        return {
          kind: 'user',
          userId: existing.userId,
          commit: (tx, c) => {
            consume(tx)
            refreshAccount(tx, c, existing, profile, tokens)
          },
        }
      if (profile.email) {
        const owner = profile.emailVerified ? verifiedEmailOwner(ctx.db, profile.email) : null
        if (owner)
          return {
            kind: 'user',
            userId: owner,
            commit: (tx, c) => {
              consume(tx)
              linkAccount(tx, c, {
                userId: owner,
                providerId: row.id,
                provider: row.providerKey,
                profile,
                tokens,
              })
              emitUserUpdated(tx, c, owner)
            },
          }
        if (emailOwner(ctx.db, profile.email)) return { kind: 'failed', error: linkRefused() }
      }
      const data: TransferData = {
        providerId: row.id,
        profile,
        tokens: seal(ctx.dataKey, JSON.stringify(tokens), transferAad(challenge.id)),
        challengeId: challenge.id,
      }
      const identity: ExternalIdentity = {
        provider: row.providerKey,
        subject: profile.providerUserId,
        emailAddress: profile.email,
        emailVerified: profile.emailVerified,
        firstName: profile.firstName,
        lastName: profile.lastName,
        data: data as unknown as Record<string, unknown>,
      }
      return { kind: 'transfer', identity }
    },
    onTransferred(tx, ctx, userId, identity) {
      const data = identity.data as unknown as TransferData
      const tokens = data.tokens
        ? (JSON.parse(unseal(ctx.dataKey, data.tokens, transferAad(data.challengeId))) as ExternalTokens)
        : null
      takeFlow(tx, data.challengeId)
      linkAccount(tx, ctx, {
        userId,
        providerId: data.providerId,
        provider: row.providerKey,
        profile: data.profile,
        tokens,
      })
    },
  }
}

/** The factor source: one redirect factor per enabled provider that may sign people in. */
export const oauthFactors = (ctx: EnvContext): readonly Factor[] =>
  ctx.cached('oauth-factors', () =>
    liveProviders(ctx)
      .filter((p) => p.enabled && p.authenticatable)
      .map(oauthFactor),
  )

let installed = false

/** Registers the social factor source once per process (every runtime shares the registry). */
export function installOauthFactors() {
  if (installed) return
  installed = true
  registerFactorSource(oauthFactors)
}
