import { randomBytes } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import QRCode from 'qrcode'
import { seal, unseal } from '../../crypto/seal'
import { constantTimeEqual, sha256Hex } from '../../crypto/secrets'
import { checkTotp, newTotpSecret, totpUri } from '../../crypto/totp'
import { withTx } from '../../db/tx'
import { AppError, formError, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import type { ClientActor } from '../clients/service'
import { emit } from '../events/service'
import { requireSession } from '../me/service'
import { sessions } from '../sessions/schema'
import { toUserResource, type UserAggregate } from '../users/serialize'
import { changeUser, findUser } from '../users/service'
import { backupCodes, totpFactors } from './schema'

export const BACKUP_CODE_COUNT = 10

const aad = (userId: string) => `totp_factors.secret:${userId}`

const totpAlreadyEnabled = () =>
  new AppError(400, [
    {
      code: 'totp_already_enabled',
      message: 'already enabled',
      long_message: 'An authenticator app is already set up.',
    },
  ])
const totpNotEnrolled = () =>
  new AppError(400, [
    {
      code: 'totp_not_enabled',
      message: 'not enrolled',
      long_message: 'Start authenticator enrollment first.',
    },
  ])
export const codeFormatInvalid = (param = 'code') =>
  formError(
    'form_param_format_invalid',
    param,
    'is invalid',
    'Enter the 6-digit code from your authenticator app.',
  )

/** The label an authenticator app shows: the user's primary identifier. */
function labelOf(agg: UserAggregate): string {
  return (
    agg.emails.find((e) => e.id === agg.user.primaryEmailAddressId)?.emailAddress ??
    agg.phones.find((p) => p.id === agg.user.primaryPhoneNumberId)?.phoneNumber ??
    agg.user.username ??
    agg.user.id
  )
}

/** Starts (or restarts) enrollment: the secret is shown this once, with its URI and QR code. */
export async function startTotpEnrollment(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  if (agg.mfa.totp) throw totpAlreadyEnabled()
  const secret = newTotpSecret()
  const uri = totpUri(ctx.settings().application_name, labelOf(agg), secret)
  const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2 })
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    const row = {
      userId: agg.user.id,
      secretSealed: seal(ctx.dataKey, secret, aad(agg.user.id)),
      verified: false,
      lastTimeStep: null,
      createdAt: now,
      verifiedAt: null,
    }
    tx.insert(totpFactors).values(row).onConflictDoUpdate({ target: totpFactors.userId, set: row }).run()
  })
  return {
    object: 'totp' as const,
    id: `totp_${agg.user.id}`,
    secret,
    uri,
    qr_code: qr,
    verified: false,
    backup_codes: null,
    created_at: now,
    updated_at: now,
  }
}

function newBackupCodes(tx: EnvTx, ctx: EnvContext, userId: string): string[] {
  tx.delete(backupCodes).where(eq(backupCodes.userId, userId)).run()
  const now = ctx.clock.now()
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => randomBytes(5).toString('hex'))
  for (const code of codes)
    tx.insert(backupCodes)
      .values({ id: newId('backupCode'), userId, codeHash: sha256Hex(code), usedAt: null, createdAt: now })
      .run()
  return codes
}

/** Leaves `setup-mfa` for the user's pending sessions once a second factor exists. */
function clearSetupTasks(tx: EnvTx, ctx: EnvContext, userId: string) {
  const pending = tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.status, 'pending')))
    .all()
  for (const s of pending) {
    const tasks = s.tasks.filter((t) => t !== 'setup-mfa')
    tx.update(sessions)
      .set({ tasks, status: tasks.length ? 'pending' : 'active', updatedAt: ctx.clock.now() })
      .where(eq(sessions.id, s.id))
      .run()
  }
}

/**
 * Confirms enrollment with the first code. The first second factor of an account also hands
 * out backup codes (shown once), as users expect.
 */
export function verifyTotpEnrollment(ctx: EnvContext, actor: ClientActor, sid: string | null, code: string) {
  const { agg } = requireSession(ctx, actor, sid)
  if (!/^\d{6}$/.test(code)) throw codeFormatInvalid()
  const row = ctx.db.select().from(totpFactors).where(eq(totpFactors.userId, agg.user.id)).get()
  if (!row) throw totpNotEnrolled()
  if (row.verified) throw totpAlreadyEnabled()
  const step = checkTotp(unseal(ctx.dataKey, row.secretSealed, aad(agg.user.id)), code, ctx.clock.now(), null)
  if (step === null) throw formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.')
  const now = ctx.clock.now()
  const codes = withTx(ctx, (tx) => {
    tx.update(totpFactors)
      .set({ verified: true, lastTimeStep: step, verifiedAt: now })
      .where(eq(totpFactors.userId, agg.user.id))
      .run()
    const issued = agg.mfa.backupCodes === 0 ? newBackupCodes(tx, ctx, agg.user.id) : null
    clearSetupTasks(tx, ctx, agg.user.id)
    emitUserUpdated(tx, ctx, agg.user.id)
    return issued
  })
  return {
    object: 'totp' as const,
    id: `totp_${agg.user.id}`,
    verified: true,
    backup_codes: codes,
    created_at: row.createdAt,
    updated_at: now,
  }
}

function emitUserUpdated(tx: EnvTx, ctx: EnvContext, userId: string) {
  const agg = findUser(ctx, userId)
  if (agg) emit(tx, ctx, 'user.updated', toUserResource(ctx, agg))
}

export function deleteTotp(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ctx.db.select().from(totpFactors).where(eq(totpFactors.userId, agg.user.id)).get()
  if (!row) throw notFound('TOTP factor')
  withTx(ctx, (tx) => {
    tx.delete(totpFactors).where(eq(totpFactors.userId, agg.user.id)).run()
    emitUserUpdated(tx, ctx, agg.user.id)
  })
  return { object: 'totp' as const, id: `totp_${agg.user.id}`, deleted: true as const }
}

export function regenerateBackupCodes(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  const codes = withTx(ctx, (tx) => {
    const issued = newBackupCodes(tx, ctx, agg.user.id)
    clearSetupTasks(tx, ctx, agg.user.id)
    emitUserUpdated(tx, ctx, agg.user.id)
    return issued
  })
  return { object: 'backup_code' as const, id: `bcode_${agg.user.id}`, codes, created_at: ctx.clock.now() }
}

export function deleteBackupCodes(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  withTx(ctx, (tx) => {
    tx.delete(backupCodes)
      .where(and(eq(backupCodes.userId, agg.user.id), isNull(backupCodes.usedAt)))
      .run()
    emitUserUpdated(tx, ctx, agg.user.id)
  })
  return { object: 'backup_code' as const, id: `bcode_${agg.user.id}`, deleted: true as const }
}

// ---- checking factors (sign-in, step-up, BAPI) --------------------------------------------

/** Checks a TOTP code and, when right, records its step so the same code is never accepted again. */
export function consumeTotp(tx: EnvTx, ctx: EnvContext, userId: string, code: string): boolean {
  const row = tx.select().from(totpFactors).where(eq(totpFactors.userId, userId)).get()
  if (!row?.verified) return false
  const step = checkTotp(
    unseal(ctx.dataKey, row.secretSealed, aad(userId)),
    code,
    ctx.clock.now(),
    row.lastTimeStep,
  )
  if (step === null) return false
  tx.update(totpFactors).set({ lastTimeStep: step }).where(eq(totpFactors.userId, userId)).run()
  return true
}

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

/** BAPI: a backend checks a user's TOTP code, or a backup code (which it uses up). */
export function verifyUserTotp(ctx: EnvContext, userId: string, code: string) {
  const agg = findUser(ctx, userId)
  if (!agg) throw notFound('user')
  if (!agg.mfa.totp && agg.mfa.backupCodes === 0) throw totpNotEnrolled()
  const trimmed = code.trim()
  if (!/^\d{6}$/.test(trimmed) && !/^[0-9a-f]{10}$/i.test(trimmed)) throw codeFormatInvalid()
  const verified = withTx(ctx, (tx) =>
    /^\d{6}$/.test(trimmed)
      ? consumeTotp(tx, ctx, userId, trimmed)
      : consumeBackupCode(tx, ctx, userId, trimmed),
  )
  return { verified }
}

/** BAPI: removes the authenticator and every backup code. */
export function resetUserMfa(ctx: EnvContext, userId: string) {
  return changeUser(ctx, userId, (tx) => {
    tx.delete(totpFactors).where(eq(totpFactors.userId, userId)).run()
    tx.delete(backupCodes).where(eq(backupCodes.userId, userId)).run()
    return {}
  })
}
