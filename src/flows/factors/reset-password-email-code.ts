import { emailIdentifier, sentCodeFactor, verifiedEmails } from './sent-code'

/** Forgot password: a code to a verified address of a user who has a password. */
export const resetPasswordEmailCode = sentCodeFactor({
  strategy: 'reset_password_email_code',
  kind: 'reset',
  channel: 'email',
  template: 'reset_password_code',
  stepUp: false,
  targets: (_ctx, user) => (user.user.passwordDigest !== null ? verifiedEmails(user) : []),
  decoy: (ctx, identifier) => emailIdentifier(identifier) && ctx.settings().identifiers.email_address.enabled,
})
