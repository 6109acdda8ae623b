import { issueCodeChallenge } from '../../domain/challenges/service'
import { emailIdentifier, sentCodeFactor, verifiedEmails } from './sent-code'
import type { IdentifierVerifier } from './types'

const STRATEGY = 'email_code'

/** A code by email: signs in, steps up, and verifies addresses at sign-up and on the profile. */
export const emailCode = sentCodeFactor({
  strategy: STRATEGY,
  kind: 'first',
  channel: 'email',
  template: 'verification_code',
  stepUp: true,
  targets: (ctx, user) => {
    const s = ctx.settings()
    return s.identifiers.email_address.enabled && s.first_factors.includes(STRATEGY)
      ? verifiedEmails(user)
      : []
  },
  decoy: (ctx, identifier) => {
    const s = ctx.settings()
    return (
      emailIdentifier(identifier) && s.identifiers.email_address.enabled && s.first_factors.includes(STRATEGY)
    )
  },
})

export const emailCodeVerifier: IdentifierVerifier = {
  strategy: STRATEGY,
  verifies: 'email_address',
  answer: 'code',
  enabled: () => true,
  prepareVerification: ({ tx, ctx, after, parent, target }) =>
    issueCodeChallenge(tx, ctx, after, {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'verification',
      strategy: STRATEGY,
      target,
      channel: 'email',
      template: 'verification_code',
    }),
}
