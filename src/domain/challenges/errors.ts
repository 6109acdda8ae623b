import { AppError, formError } from '../../lib/errors'

// The error codes of challenges (codes, links, local answers), whichever parent they belong to.

/** The resend cooldown: one code or link per identifier every 30 s. */
export const verificationTooManyRequests = (retryAfterS: number) =>
  new AppError(
    429,
    [
      {
        code: 'verification_code_too_many_requests',
        message: 'too many requests',
        long_message: `Wait ${retryAfterS} seconds before asking for another code.`,
      },
    ],
    { headers: { 'retry-after': String(retryAfterS) } },
  )

export const verificationFailed = () =>
  new AppError(400, [
    {
      code: 'verification_failed',
      message: 'too many failed attempts',
      long_message: 'Too many wrong answers. Ask for a new code or use another method.',
    },
  ])
export const verificationExpired = () =>
  new AppError(400, [
    {
      code: 'verification_expired',
      message: 'expired',
      long_message: 'This verification has expired. Ask for a new one.',
    },
  ])
export const alreadyVerified = () =>
  new AppError(400, [
    {
      code: 'verification_already_verified',
      message: 'already verified',
      long_message: 'This verification has already been completed.',
    },
  ])
export const codeIncorrect = () =>
  formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.')

export const notAnsweredWithCode = () =>
  new AppError(400, [
    {
      code: 'verification_strategy_invalid',
      message: 'no code',
      long_message: 'This challenge is not answered with a code.',
    },
  ])
