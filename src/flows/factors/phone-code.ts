import { issueCodeChallenge } from '../../domain/challenges/service'
import { emailIdentifier, sentCodeFactor, verifiedPhones } from './sent-code'
import type { IdentifierVerifier } from './types'

const STRATEGY = 'phone_code'

/**
 * A code by SMS as a first factor, to numbers not reserved for second factor (those are the
 * second-factor module's); it also verifies numbers at sign-up and on the profile.
 */
export const phoneCode = sentCodeFactor({
  strategy: STRATEGY,
  kind: 'first',
  channel: 'sms',
  template: 'verification_code',
  stepUp: true,
  targets: (ctx, user) => {
    const s = ctx.settings()
    return s.identifiers.phone_number.enabled && s.first_factors.includes(STRATEGY)
      ? verifiedPhones(user, (reserved) => !reserved)
      : []
  },
  decoy: (ctx, identifier) => {
    const s = ctx.settings()
    return (
      !emailIdentifier(identifier) && s.identifiers.phone_number.enabled && s.first_factors.includes(STRATEGY)
    )
  },
})

export const phoneCodeVerifier: IdentifierVerifier = {
  strategy: STRATEGY,
  verifies: 'phone_number',
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
      channel: 'sms',
      template: 'verification_code',
    }),
}
