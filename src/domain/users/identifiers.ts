import { and, eq, sql } from 'drizzle-orm'
import { formError, formIdentifierExists, formParamInvalid } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import type { InstanceSettings } from '../../tenancy/settings'
import { emailAddresses, phoneNumbers, users } from './schema'

type Db = EnvContext['db'] | EnvTx

const EMAIL =
  /^[^\s@"<>()[\],;:\\]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

/** Emails are kept lower-cased: one address, whatever its case, belongs to one user. */
export function normalizeEmail(raw: string, param = 'email_address'): string {
  const email = raw.trim().toLowerCase()
  if (email.length > 320 || !EMAIL.test(email))
    throw formParamInvalid(param, `${raw} is not a valid email address.`)
  return email
}

const E164 = /^\+[1-9]\d{6,14}$/

/** Phone numbers are kept in E.164; spaces, dashes, dots and brackets are dropped. */
export function normalizePhone(raw: string, param = 'phone_number'): string {
  const phone = raw.replace(/[\s\-().]/g, '')
  if (!E164.test(phone))
    throw formParamInvalid(param, `${raw} is not a phone number in E.164 format (+15555550100).`)
  return phone
}

export function normalizeUsername(raw: string, settings: InstanceSettings, param = 'username'): string {
  const username = raw.trim().toLowerCase()
  const { min_length, max_length } = settings.identifiers.username
  if (username.length < min_length || username.length > max_length) {
    throw formError(
      'form_username_invalid_length',
      param,
      'has an invalid length',
      `Usernames must be between ${min_length} and ${max_length} characters long.`,
    )
  }
  if (!/^[a-z0-9_.-]+$/.test(username)) {
    throw formError(
      'form_username_invalid_character',
      param,
      'contains invalid characters',
      'Usernames may contain only letters, numbers, dots, dashes and underscores.',
    )
  }
  if (/^\d+$/.test(username)) {
    throw formError(
      'form_username_needs_non_number_char',
      param,
      'needs a letter',
      'Usernames must contain a non-number character.',
    )
  }
  return username
}

// ---- who has an identifier -------------------------------------------------------------------

export function assertEmailFree(tx: Db, email: string, exceptUser?: string) {
  const row = tx
    .select({ userId: emailAddresses.userId })
    .from(emailAddresses)
    .where(eq(emailAddresses.emailAddress, email))
    .get()
  if (row && row.userId !== exceptUser) throw formIdentifierExists('email_address')
}
export function assertPhoneFree(tx: Db, phone: string) {
  if (
    tx.select({ id: phoneNumbers.id }).from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, phone)).get()
  ) {
    throw formIdentifierExists('phone_number')
  }
}
export function assertUsernameFree(tx: Db, username: string, exceptUser?: string) {
  const row = tx.select({ id: users.id }).from(users).where(eq(users.username, username)).get()
  if (row && row.id !== exceptUser) throw formIdentifierExists('username')
}
export function assertExternalIdFree(tx: Db, externalId: string, exceptUser?: string) {
  const row = tx.select({ id: users.id }).from(users).where(eq(users.externalId, externalId)).get()
  if (row && row.id !== exceptUser) throw formIdentifierExists('external_id')
}

/** A sign-up's identifiers must all be free; the first taken one is the form error. */
export function assertIdentifiersFree(
  db: Db,
  ids: { emailAddress?: string | null; phoneNumber?: string | null; username?: string | null },
) {
  if (ids.emailAddress) assertEmailFree(db, ids.emailAddress)
  if (ids.phoneNumber) assertPhoneFree(db, ids.phoneNumber)
  if (ids.username) assertUsernameFree(db, ids.username)
}

/** The user an email address belongs to (verified or not), if any. */
export const emailOwner = (db: Db, email: string): string | null =>
  db
    .select({ userId: emailAddresses.userId })
    .from(emailAddresses)
    .where(eq(emailAddresses.emailAddress, email))
    .get()?.userId ?? null

/** The user a phone number belongs to (verified or not), if any. */
export const phoneOwner = (db: Db, phone: string): string | null =>
  db
    .select({ userId: phoneNumbers.userId })
    .from(phoneNumbers)
    .where(eq(phoneNumbers.phoneNumber, phone))
    .get()?.userId ?? null

/** The user whose verified address this is, if any. */
export const verifiedEmailOwner = (db: Db, email: string): string | null => {
  const row = db
    .select({ userId: emailAddresses.userId, verified: emailAddresses.verified })
    .from(emailAddresses)
    .where(eq(emailAddresses.emailAddress, email))
    .get()
  return row?.verified ? row.userId : null
}

/** Every verified address at a domain, with its user (organization domain enrollment). */
export const verifiedEmailsAtDomain = (db: Db, domain: string) =>
  db
    .select({ userId: emailAddresses.userId, email: emailAddresses.emailAddress })
    .from(emailAddresses)
    .where(
      and(
        eq(emailAddresses.verified, true),
        sql`${emailAddresses.emailAddress} like ${`%@${domain.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}`} escape '\\'`,
      ),
    )
    .all()

/** Resolves an identifier to a user among the identifiers the env lets people sign in with. */
export function findUserIdByIdentifier(ctx: EnvContext, raw: string): string | null {
  const ids = ctx.settings().identifiers
  const value = raw.trim()
  if (value.includes('@')) {
    if (!ids.email_address.enabled || !ids.email_address.used_for_first_factor) return null
    return verifiedEmailOwner(ctx.db, value.toLowerCase())
  }
  if (/^\+?[\d\s\-().]+$/.test(value) && ids.phone_number.enabled && ids.phone_number.used_for_first_factor) {
    let phone: string
    try {
      phone = normalizePhone(value)
    } catch {
      return null
    }
    const row = ctx.db
      .select({ userId: phoneNumbers.userId, verified: phoneNumbers.verified })
      .from(phoneNumbers)
      .where(eq(phoneNumbers.phoneNumber, phone))
      .get()
    return row?.verified ? row.userId : null
  }
  if (!ids.username.enabled || !ids.username.used_for_first_factor) return null
  return (
    ctx.db.select({ id: users.id }).from(users).where(eq(users.username, value.toLowerCase())).get()?.id ??
    null
  )
}
