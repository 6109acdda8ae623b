import { AppError, formError } from '../lib/errors'

// Errors of the state machines (sign-in, sign-up, step-up), defined once.

/** A step asked for at the wrong time (the machine is elsewhere, or done, or expired). */
export const clientStateInvalid = (long: string, message = 'not allowed now') =>
  new AppError(400, [{ code: 'client_state_invalid', message, long_message: long }])

/** A strategy this user cannot use here (unknown, disabled, or not theirs). */
export const strategyInvalid = (strategy: string) =>
  formError(
    'strategy_for_user_invalid',
    'strategy',
    'is not allowed',
    `${strategy} is not a way this user can sign in here.`,
  )

/**
 * Another factor is the only way in for this identifier (an enterprise connection enforces SSO
 * for its email domain): every other first factor is refused.
 */
export const onlyStrategyAllowed = (strategy: string) =>
  formError(
    'strategy_for_user_invalid',
    'strategy',
    'is not allowed',
    `This identifier signs in with ${strategy} only: its organization enforces single sign-on.`,
  )

export const signedOut = () =>
  new AppError(401, [
    { code: 'authentication_invalid', message: 'signed out', long_message: 'Sign in to use this endpoint.' },
  ])
