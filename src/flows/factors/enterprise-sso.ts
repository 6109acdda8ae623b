import { randomToken } from '../../crypto/secrets'
import { withTx } from '../../db/tx'
import { issueRedirectChallenge } from '../../domain/challenges/service'
import { connectionForEmail, loadConnection } from '../../domain/enterprise-sso/connections'
import { connectionUnavailable, ssoVerificationFailed } from '../../domain/enterprise-sso/errors'
import {
  authorizationRequest,
  completeAuthorization,
  consumeAuthorization,
  oidcRequestOf,
  rememberAuthorization,
} from '../../domain/enterprise-sso/oidc-rp'
import { consumeResponse, validateResponse } from '../../domain/enterprise-sso/saml-sp'
import type { EnvContext } from '../../tenancy/context'
import { strategyInvalid } from '../errors'
import { provisionEnterpriseUser } from '../sso/provision'
import { isEmailIdentifier, notACode } from './shared'
import type { Factor, FactorOption } from './types'

/**
 * `enterprise_sso`: a sign-in whose email domain is routed to an active enterprise connection
 * goes to that connection's IdP. SAML: the browser is sent to our `/v1/saml/{id}/start` hop,
 * which builds the AuthnRequest (node-saml is asynchronous, a sign-in step is not) and comes back
 * to the ACS; OIDC: straight to the IdP's authorization endpoint, back to the shared callback.
 * The IdP identifies the person: the user is found, linked or provisioned (JIT) in the callback.
 */

const STRATEGY = 'enterprise_sso'

const optionFor = (ctx: EnvContext, email: string): FactorOption[] =>
  isEmailIdentifier(email) && connectionForEmail(ctx.db, email)
    ? [{ strategy: STRATEGY, safe_identifier: email }]
    : []

export const enterpriseSso: Factor = {
  strategy: STRATEGY,
  kind: 'first',
  answer: 'redirect',
  stepUp: false,
  options(ctx, user) {
    for (const e of user.emails) {
      const found = optionFor(ctx, e.emailAddress)
      if (found.length) return found
    }
    return []
  },
  // An address nobody has yet may still sign in through its IdP (JIT provisioning).
  decoyOptions: (ctx, identifier) => optionFor(ctx, identifier.trim().toLowerCase()),
  // "Enforce SSO" on the routed connection: the IdP is the only way in for its domains.
  exclusive(ctx, user, identifier) {
    const emails = user ? user.emails.map((e) => e.emailAddress) : []
    if (identifier && isEmailIdentifier(identifier)) emails.push(identifier.trim().toLowerCase())
    return emails.some((e) => connectionForEmail(ctx.db, e)?.enforceSso === true)
  },
  prepare({ tx, ctx, parent, option, input, identifier }) {
    const email = (identifier && isEmailIdentifier(identifier) ? identifier : option.safe_identifier) ?? ''
    const connection = connectionForEmail(tx, email.trim().toLowerCase())
    if (!connection) throw strategyInvalid(STRATEGY)
    const state = randomToken(24)
    const base = {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'first_factor' as const,
      strategy: STRATEGY,
      state,
      redirectUrl: input.redirect_url ?? null,
    }
    if (connection.protocol === 'saml') {
      const start = `${ctx.frontendUrl()}/v1/saml/${connection.id}/start?state=${encodeURIComponent(state)}`
      const challenge = issueRedirectChallenge(tx, ctx, { ...base, externalUrl: start })
      return { challenge, externalVerificationRedirectUrl: start }
    }
    const request = authorizationRequest(ctx, connection, state, email)
    const challenge = issueRedirectChallenge(tx, ctx, { ...base, externalUrl: request.url })
    rememberAuthorization(tx, ctx, connection, challenge.id, request)
    return { challenge, externalVerificationRedirectUrl: request.url }
  },
  precheck: async () => {
    throw notACode()
  },
  check: () => false,
  wrongAnswer: notACode,
  async callback(ctx, challenge, params) {
    const samlResponse = params.get('SAMLResponse')
    if (samlResponse !== null) {
      const connection = loadConnection(ctx.db, params.get('connection_id') ?? '')
      if (!connection?.active || connection.protocol !== 'saml') throw connectionUnavailable()
      const validated = await validateResponse(ctx, connection, samlResponse)
      const userId = withTx(ctx, (tx) => {
        const refused = consumeResponse(tx, ctx, connection, validated, challenge.id)
        if (refused) throw ssoVerificationFailed(`The identity provider's answer was refused: ${refused}.`)
        return provisionEnterpriseUser(tx, ctx, connection, validated.identity)
      })
      return { kind: 'user', userId }
    }
    // The person cancelled or the IdP refused: the verification fails, the app is told so.
    const error = params.get('error')
    if (error)
      return {
        kind: 'failed',
        error: ssoVerificationFailed(`The identity provider answered ${error.slice(0, 64)}.`),
      }
    const pending = oidcRequestOf(ctx.db, challenge.id)
    const connection = pending ? loadConnection(ctx.db, pending.connectionId) : undefined
    if (!connection?.active || connection.protocol !== 'oidc') throw connectionUnavailable()
    const identity = await completeAuthorization(
      ctx,
      connection,
      challenge.id,
      params.get('state') ?? '',
      params,
    )
    const userId = withTx(ctx, (tx) => {
      if (!consumeAuthorization(tx, challenge.id))
        throw ssoVerificationFailed('This sign-in was completed already.')
      return provisionEnterpriseUser(tx, ctx, connection, identity)
    })
    return { kind: 'user', userId }
  },
}
