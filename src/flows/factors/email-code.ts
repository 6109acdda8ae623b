import { codeVerifier, firstFactorTargets, sentCodeFactor, verifiedEmails } from './sent-code'

const STRATEGY = 'email_code'

/** A code by email: signs in, steps up, and verifies addresses at sign-up and on the profile. */
export const emailCode = sentCodeFactor({
  strategy: STRATEGY,
  kind: 'first',
  channel: 'email',
  template: 'verification_code',
  stepUp: true,
  ...firstFactorTargets(STRATEGY, 'email_address', verifiedEmails),
})

export const emailCodeVerifier = codeVerifier(STRATEGY, 'email_address')
