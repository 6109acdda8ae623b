import { codeVerifier, firstFactorTargets, sentCodeFactor, verifiedPhones } from './sent-code'

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
  ...firstFactorTargets(STRATEGY, 'phone_number', (user) => verifiedPhones(user, (reserved) => !reserved)),
})

export const phoneCodeVerifier = codeVerifier(STRATEGY, 'phone_number')
