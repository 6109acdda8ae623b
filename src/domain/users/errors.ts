import { AppError } from '../../lib/errors'
import type { UserRow } from './schema'

// The error codes of accounts: bans and lockout, and a user's own identifiers.

export const userBanned = () =>
  new AppError(403, [{ code: 'user_banned', message: 'banned', long_message: 'This account is banned.' }])

export function userLocked(u: UserRow, now: number) {
  const seconds = u.lockedUntil === null ? null : Math.max(1, Math.ceil((u.lockedUntil - now) / 1000))
  return new AppError(403, [
    {
      code: 'user_locked',
      message: 'locked',
      long_message:
        seconds === null
          ? 'This account is locked. Contact support to unlock it.'
          : `This account is locked after too many failed attempts. Try again in ${Math.ceil(seconds / 60)} minutes.`,
      meta: { lockout_expires_in_seconds: seconds },
    },
  ])
}

export const primaryAddressDeletion = () =>
  new AppError(400, [
    {
      code: 'identification_deletion_failed',
      message: 'primary address',
      long_message: 'Make another address primary before deleting this one.',
    },
  ])

export const reservedForSecondFactor = () =>
  new AppError(400, [
    {
      code: 'phone_number_reserved_for_second_factor',
      message: 'reserved for second factor',
      long_message: 'Stop using this number as a second factor before removing it.',
    },
  ])

export const phoneNotVerified = () =>
  new AppError(400, [
    { code: 'phone_number_not_verified', message: 'not verified', long_message: 'Verify this number first.' },
  ])
