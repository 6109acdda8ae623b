import { eq } from 'drizzle-orm'
import { type AppError, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx as Tx } from '../../tenancy/open'
import { userBanned, userLocked } from './errors'
import { type UserRow, users } from './schema'
import { isLocked } from './serialize'
import { emitUserUpdated } from './service'

// The sign-in policy of an account: bans, and the lockout after too many failed factors.

/** Throws user_banned / user_locked before any factor is checked. */
export function assertMaySignIn(u: UserRow, now: number) {
  if (u.banned) throw userBanned()
  if (isLocked(u, now)) throw userLocked(u, now)
}

/**
 * The same check inside the transaction that signs the user in: a lock that concurrent wrong
 * answers set after the first check (while a password hash ran) still holds.
 */
export function assertMaySignInNow(tx: Tx, ctx: EnvContext, userId: string) {
  const u = tx.select().from(users).where(eq(users.id, userId)).get()
  if (!u) throw notFound('user')
  assertMaySignIn(u, ctx.clock.now())
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
    emitUserUpdated(tx, ctx, userId)
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
