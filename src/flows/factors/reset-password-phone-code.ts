import { emailIdentifier, sentCodeFactor, verifiedPhones } from './sent-code'

/** Forgot password: a code by SMS to a verified number of a user who has a password. */
export const resetPasswordPhoneCode = sentCodeFactor({
  strategy: 'reset_password_phone_code',
  kind: 'reset',
  channel: 'sms',
  template: 'reset_password_code',
  stepUp: false,
  targets: (ctx, user) =>
    user.user.passwordDigest !== null && ctx.settings().identifiers.phone_number.enabled
      ? verifiedPhones(user)
      : [],
  decoy: (ctx, identifier) => !emailIdentifier(identifier) && ctx.settings().identifiers.phone_number.enabled,
})
