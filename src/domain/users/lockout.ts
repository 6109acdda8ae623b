import { eq } from 'drizzle-orm'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx as Tx } from '../../tenancy/open'
import { type UserRow, users } from './schema'
import { isLocked } from './serialize'

// The sign-in policy of an account: bans, and the lockout after too many failed factors.

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

/** Throws user_banned / user_locked before any factor is checked. */
export function assertMaySignIn(u: UserRow, now: number) {
  if (u.banned) throw userBanned()
  if (isLocked(u, now)) throw userLocked(u, now)
}

/**
 * Counts a failed password or code toward the lockout; returns the lock error when this
 * failure locks the account. Runs in the caller's transaction, which commits it.
 */
export function recordFailedVerification(tx: Tx, ctx: EnvContext, userId: string): AppError | null {
  const lockout = ctx.settings().lockout
  const u = tx.select().from(users).where(eq(users.id, userId)).get()
  if (!u || !lockout.enabled) return null
  const now = ctx.clock.now()
  const failed = u.failedVerificationAttempts + 1
  if (failed >= lockout.max_attempts) {
    const lockedUntil = lockout.duration_seconds === null ? null : now + lockout.duration_seconds * 1000
    tx.update(users)
      .set({ failedVerificationAttempts: 0, lockedAt: now, lockedUntil, updatedAt: now })
      .where(eq(users.id, userId))
      .run()
    return userLocked({ ...u, lockedAt: now, lockedUntil }, now)
  }
  tx.update(users).set({ failedVerificationAttempts: failed }).where(eq(users.id, userId)).run()
  return null
}

/** A successful sign-in clears the failure count and stamps last_sign_in_at. */
export function recordSignIn(tx: Tx, ctx: EnvContext, userId: string) {
  const now = ctx.clock.now()
  tx.update(users)
    .set({ failedVerificationAttempts: 0, lastSignInAt: now, lastActiveAt: now })
    .where(eq(users.id, userId))
    .run()
}
