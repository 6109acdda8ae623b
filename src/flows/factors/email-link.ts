import { issueDecoyChallenge, issueLinkChallenge } from '../../domain/challenges/service'
import { assertAllowedRedirect } from '../../domain/redirects/service'
import { formParamMissing } from '../../lib/errors'
import { firstFactorTargets, sentCodeFactor, verifiedEmails } from './sent-code'
import { notACode } from './shared'
import type { Factor, IdentifierVerifier, PrepareInput } from './types'

const STRATEGY = 'email_link'

/** A magic link needs somewhere allowed to send the browser back to. */
function validatePrepare(
  ctx: Parameters<NonNullable<Factor['validatePrepare']>>[0],
  actor: Parameters<NonNullable<Factor['validatePrepare']>>[1],
  input: PrepareInput,
) {
  if (!input.redirect_url) throw formParamMissing('redirect_url')
  assertAllowedRedirect(ctx, input.redirect_url, actor?.frontendUrl ?? ctx.frontendUrl())
}

// The options and decoys are those of a code to a verified address; preparing sends a link.
const asCode = sentCodeFactor({
  strategy: STRATEGY,
  kind: 'first',
  channel: 'email',
  template: 'verification_code',
  stepUp: false,
  ...firstFactorTargets(STRATEGY, 'email_address', verifiedEmails),
})

/**
 * A magic link by email (`/v1/client/handshake?__authn_ticket=…`): answered by opening it, on
 * this device or (unless the env requires the same client) another one.
 */
export const emailLink: Factor = {
  ...asCode,
  answer: 'link',
  validatePrepare,
  prepare(p) {
    const base = {
      parentType: p.parent.type,
      parentId: p.parent.id,
      clientId: p.parent.clientId,
      step: 'first_factor' as const,
      strategy: STRATEGY,
    }
    if (!p.user) return { challenge: issueDecoyChallenge(p.tx, p.ctx, base, p.identifier ?? '') }
    const email = verifiedEmails(p.user).find((e) => e.id === p.option.email_address_id)!
    return {
      challenge: issueLinkChallenge(p.tx, p.ctx, p.after, {
        ...base,
        target: { id: email.id, value: email.value },
        redirectUrl: p.input.redirect_url!,
        frontendUrl: p.actor?.frontendUrl ?? p.ctx.frontendUrl(),
        template: 'magic_link_sign_in',
      }),
    }
  },
  precheck: async () => {
    throw notACode()
  },
  check: () => false,
  wrongAnswer: notACode,
}

export const emailLinkVerifier: IdentifierVerifier = {
  strategy: STRATEGY,
  verifies: 'email_address',
  answer: 'link',
  // Profile addresses may always be verified by link; sign-ups only where links sign in.
  enabled: (settings, purpose) => purpose === 'profile' || settings.first_factors.includes(STRATEGY),
  validatePrepare,
  prepareVerification: ({ tx, ctx, after, actor, parent, target, purpose, redirectUrl }) =>
    issueLinkChallenge(tx, ctx, after, {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'verification',
      strategy: STRATEGY,
      target,
      redirectUrl: redirectUrl!,
      frontendUrl: actor?.frontendUrl ?? ctx.frontendUrl(),
      template: purpose === 'sign_up' ? 'magic_link_sign_up' : 'magic_link_user_profile',
    }),
}
