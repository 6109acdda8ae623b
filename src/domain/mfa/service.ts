import { randomBytes } from 'node:crypto'
import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { seal, unseal } from '../../crypto/seal'
import { constantTimeEqual, sha256Hex } from '../../crypto/secrets'
import { checkTotp } from '../../crypto/totp'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { backupCodes, type TotpFactorRow, totpFactors } from './schema'

/**
 * A user's second-factor credentials: one authenticator (TOTP) and single-use backup codes. The
 * flows above enroll, check and remove them; the users capability reads the summary.
 */

export const BACKUP_CODE_COUNT = 10

type Db = EnvContext['db'] | EnvTx

const aad = (userId: string) => `totp_factors.secret:${userId}`

export const findTotp = (db: Db, userId: string): TotpFactorRow | null =>
  db.select().from(totpFactors).where(eq(totpFactors.userId, userId)).get() ?? null

/** Starts (or restarts) enrollment: the secret is kept sealed and unverified. */
export function saveTotpSecret(tx: EnvTx, ctx: EnvContext, userId: string, secret: string) {
  const row = {
    userId,
    secretSealed: seal(ctx.dataKey, secret, aad(userId)),
    verified: false,
    lastTimeStep: null,
    createdAt: ctx.clock.now(),
    verifiedAt: null,
  }
  tx.insert(totpFactors).values(row).onConflictDoUpdate({ target: totpFactors.userId, set: row }).run()
}

/** The time step a code matches for this factor (any step not yet used), or null. */
export const matchTotp = (ctx: EnvContext, row: TotpFactorRow, code: string): number | null =>
  checkTotp(unseal(ctx.dataKey, row.secretSealed, aad(row.userId)), code, ctx.clock.now(), row.lastTimeStep)

export function confirmTotp(tx: EnvTx, ctx: EnvContext, userId: string, step: number) {
  tx.update(totpFactors)
    .set({ verified: true, lastTimeStep: step, verifiedAt: ctx.clock.now() })
    .where(eq(totpFactors.userId, userId))
    .run()
}

export const deleteTotp = (tx: EnvTx, userId: string) =>
  tx.delete(totpFactors).where(eq(totpFactors.userId, userId)).run()

/** Checks a TOTP code and, when right, records its step so the same code is never accepted again. */
export function consumeTotp(tx: EnvTx, ctx: EnvContext, userId: string, code: string): boolean {
  const row = findTotp(tx, userId)
  if (!row?.verified) return false
  const step = matchTotp(ctx, row, code)
  if (step === null) return false
  tx.update(totpFactors).set({ lastTimeStep: step }).where(eq(totpFactors.userId, userId)).run()
  return true
}

/** Ten fresh codes (shown once); the old ones stop working. */
export function replaceBackupCodes(tx: EnvTx, ctx: EnvContext, userId: string): string[] {
  tx.delete(backupCodes).where(eq(backupCodes.userId, userId)).run()
  const now = ctx.clock.now()
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => randomBytes(5).toString('hex'))
  for (const code of codes)
    tx.insert(backupCodes)
      .values({ id: newId('backupCode'), userId, codeHash: sha256Hex(code), usedAt: null, createdAt: now })
      .run()
  return codes
}

export const deleteUnusedBackupCodes = (tx: EnvTx, userId: string) =>
  tx
    .delete(backupCodes)
    .where(and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)))
    .run()

/** Checks a backup code against the unused ones and uses it up. */
export function consumeBackupCode(tx: EnvTx, ctx: EnvContext, userId: string, code: string): boolean {
  const hash = sha256Hex(code.trim().toLowerCase())
  const unused = tx
    .select()
    .from(backupCodes)
    .where(and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)))
    .all()
  let match: string | null = null
  for (const c of unused) if (constantTimeEqual(c.codeHash, hash)) match = c.id
  if (!match) return false
  tx.update(backupCodes).set({ usedAt: ctx.clock.now() }).where(eq(backupCodes.id, match)).run()
  return true
}

/** Removes the authenticator and every backup code (an operator's reset). */
export function removeSecondFactors(tx: EnvTx, userId: string) {
  deleteTotp(tx, userId)
  tx.delete(backupCodes).where(eq(backupCodes.userId, userId)).run()
}

export interface SecondFactorSummary {
  /** A verified authenticator. */
  totp: boolean
  /** Unused backup codes. */
  backupCodes: number
}

/** What the user resource shows of each user's second factors, for a page of users at once. */
export function secondFactorSummaries(db: Db, userIds: string[]): Map<string, SecondFactorSummary> {
  const out = new Map<string, SecondFactorSummary>(userIds.map((id) => [id, { totp: false, backupCodes: 0 }]))
  if (!userIds.length) return out
  for (const r of db
    .select({ userId: totpFactors.userId })
    .from(totpFactors)
    .where(and(inArray(totpFactors.userId, userIds), eq(totpFactors.verified, true)))
    .all())
    out.get(r.userId)!.totp = true
  for (const r of db
    .select({ userId: backupCodes.userId, n: sql<number>`count(*)` })
    .from(backupCodes)
    .where(and(inArray(backupCodes.userId, userIds), isNull(backupCodes.usedAt)))
    .groupBy(backupCodes.userId)
    .all())
    out.get(r.userId)!.backupCodes = r.n
  return out
}

export const secondFactorSummary = (db: Db, userId: string): SecondFactorSummary =>
  secondFactorSummaries(db, [userId]).get(userId)!

/**
 * The same summary as SQL over a user id column, for the users capability's single-statement
 * hot read (findUser): the columns `totp` and `backup_codes`.
 */
export const SECOND_FACTOR_COLUMNS_SQL = `(select verified from totp_factors t where t.user_id = u.id) as totp,
          (select count(*) from backup_codes b where b.user_id = u.id and b.used_at is null) as backup_codes`
