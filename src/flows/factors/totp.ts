import { consumeTotp } from '../../domain/mfa/service'
import { localCodeFactor } from './local-code'

/** An authenticator app's 6-digit code (RFC 6238), each accepted once. */
export const totp = localCodeFactor({
  strategy: 'totp',
  shape: /^\d{6}$/,
  shapeHint: 'Enter the 6-digit code from your authenticator app.',
  enrolled: (user) => user.mfa.totp,
  consume: consumeTotp,
})
