import QRCode from 'qrcode'
import { newTotpSecret, totpUri } from '../../crypto/totp'
import { withTx } from '../../db/tx'
import {
  confirmTotp,
  deleteTotp,
  deleteUnusedBackupCodes,
  findTotp,
  matchTotp,
  removeSecondFactors,
  replaceBackupCodes,
  saveTotpSecret,
} from '../../domain/mfa/service'
import { completeTask } from '../../domain/sessions/service'
import type { UserAggregate } from '../../domain/users/serialize'
import { changeUser, emitUserUpdated, findUser } from '../../domain/users/service'
import { AppError, formError, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { codeShapedFactors } from '../factors'
import type { SignedIn } from './signed-in'

/** The signed-in user's second factors: authenticator enrollment and backup codes. */

const SETUP_MFA = 'setup-mfa'

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
const codeFormatInvalid = () =>
  formError(
    'form_param_format_invalid',
    'code',
    'is invalid',
    'Enter the 6-digit code from your authenticator app.',
  )

/** The label an authenticator app shows: the user's primary identifier. */
function labelOf(user: UserAggregate): string {
  return (
    user.emails.find((e) => e.id === user.user.primaryEmailAddressId)?.emailAddress ??
    user.phones.find((p) => p.id === user.user.primaryPhoneNumberId)?.phoneNumber ??
    user.user.username ??
    user.user.id
  )
}

/** A second factor now exists: `setup-mfa` is done, and the user resource changed. */
function secondFactorsChanged(tx: EnvTx, ctx: EnvContext, userId: string, enrolled: boolean) {
  if (enrolled) completeTask(tx, ctx, userId, SETUP_MFA)
  emitUserUpdated(tx, ctx, userId)
}

/** Starts (or restarts) enrollment: the secret is shown this once, with its URI and QR code. */
export async function startTotpEnrollment(ctx: EnvContext, { user }: SignedIn) {
  if (user.mfa.totp) throw totpAlreadyEnabled()
  const secret = newTotpSecret()
  const uri = totpUri(ctx.settings().application_name, labelOf(user), secret)
  const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2 })
  const now = ctx.clock.now()
  withTx(ctx, (tx) => saveTotpSecret(tx, ctx, user.user.id, secret))
  return {
    object: 'totp' as const,
    id: `totp_${user.user.id}`,
    secret,
    uri,
    qr_code: qr,
    verified: false,
    backup_codes: null,
    created_at: now,
    updated_at: now,
  }
}

/**
 * Confirms enrollment with the first code. The first second factor of an account also hands
 * out backup codes (shown once), as users expect.
 */
export function verifyTotpEnrollment(ctx: EnvContext, { user }: SignedIn, code: string) {
  if (!/^\d{6}$/.test(code)) throw codeFormatInvalid()
  const row = findTotp(ctx.db, user.user.id)
  if (!row) throw totpNotEnrolled()
  if (row.verified) throw totpAlreadyEnabled()
  const step = matchTotp(ctx, { ...row, lastTimeStep: null }, code)
  if (step === null) throw formError('form_code_incorrect', 'code', 'is incorrect', 'The code is incorrect.')
  const now = ctx.clock.now()
  const codes = withTx(ctx, (tx) => {
    confirmTotp(tx, ctx, user.user.id, step)
    const issued = user.mfa.backupCodes === 0 ? replaceBackupCodes(tx, ctx, user.user.id) : null
    secondFactorsChanged(tx, ctx, user.user.id, true)
    return issued
  })
  return {
    object: 'totp' as const,
    id: `totp_${user.user.id}`,
    verified: true,
    backup_codes: codes,
    created_at: row.createdAt,
    updated_at: now,
  }
}

export function removeTotp(ctx: EnvContext, { user }: SignedIn) {
  if (!findTotp(ctx.db, user.user.id)) throw notFound('TOTP factor')
  withTx(ctx, (tx) => {
    deleteTotp(tx, user.user.id)
    secondFactorsChanged(tx, ctx, user.user.id, false)
  })
  return { object: 'totp' as const, id: `totp_${user.user.id}`, deleted: true as const }
}

export function regenerateBackupCodes(ctx: EnvContext, { user }: SignedIn) {
  const codes = withTx(ctx, (tx) => {
    const issued = replaceBackupCodes(tx, ctx, user.user.id)
    secondFactorsChanged(tx, ctx, user.user.id, true)
    return issued
  })
  return { object: 'backup_code' as const, id: `bcode_${user.user.id}`, codes, created_at: ctx.clock.now() }
}

export function deleteBackupCodes(ctx: EnvContext, { user }: SignedIn) {
  withTx(ctx, (tx) => {
    deleteUnusedBackupCodes(tx, user.user.id)
    secondFactorsChanged(tx, ctx, user.user.id, false)
  })
  return { object: 'backup_code' as const, id: `bcode_${user.user.id}`, deleted: true as const }
}

// ---- operators (BAPI) -----------------------------------------------------------------------

/** A backend checks a user's authenticator code, or a backup code (which it uses up). */
export function verifyUserSecondFactor(ctx: EnvContext, userId: string, code: string) {
  const user = findUser(ctx, userId)
  if (!user) throw notFound('user')
  if (!codeShapedFactors.some((f) => f.enrolled?.(user))) throw totpNotEnrolled()
  const trimmed = code.trim()
  const factor = codeShapedFactors.find((f) => f.shape.test(trimmed))
  if (!factor) throw codeFormatInvalid()
  const verified = withTx(ctx, (tx) => factor.consume(tx, ctx, userId, trimmed))
  return { verified }
}

/** Removes the authenticator and every backup code of a user. */
export const resetUserMfa = (ctx: EnvContext, userId: string) =>
  changeUser(ctx, userId, (tx) => {
    removeSecondFactors(tx, userId)
    return {}
  })
