import { and, eq } from 'drizzle-orm'
import { formError, formIdentifierExists, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { phoneNotVerified, primaryAddressDeletion, reservedForSecondFactor } from './errors'
import { normalizeEmail, normalizePhone } from './identifiers'
import { type EmailAddressRow, emailAddresses, type PhoneNumberRow, phoneNumbers, users } from './schema'
import { toEmailAddressResource, toPhoneNumberResource } from './serialize'
import { emitUserUpdated } from './service'

/**
 * A user's email addresses and phone numbers: one service for both kinds, which differ only in
 * their table, normal form and wire shape (and a phone's second-factor flags). Every change
 * emits user.updated in its transaction.
 */
export type ContactKind = 'email_address' | 'phone_number'

type Db = EnvContext['db'] | EnvTx

export interface ContactRow {
  id: string
  userId: string
  value: string
  verified: boolean
  verificationStrategy: string | null
  reservedForSecondFactor: boolean
}

const fromEmail = (r: EmailAddressRow): ContactRow => ({
  id: r.id,
  userId: r.userId,
  value: r.emailAddress,
  verified: r.verified,
  verificationStrategy: r.verificationStrategy,
  reservedForSecondFactor: false,
})
const fromPhone = (r: PhoneNumberRow): ContactRow => ({
  id: r.id,
  userId: r.userId,
  value: r.phoneNumber,
  verified: r.verified,
  verificationStrategy: r.verificationStrategy,
  reservedForSecondFactor: r.reservedForSecondFactor,
})

/** What differs between the two kinds. */
export const CONTACT_KINDS = {
  email_address: {
    label: 'email address',
    setting: 'email_address',
    normalize: (raw: string) => normalizeEmail(raw),
    /** The resource wire shape of one row. */
    resource: (db: Db, id: string) => {
      const r = db.select().from(emailAddresses).where(eq(emailAddresses.id, id)).get()
      return r ? toEmailAddressResource(r) : null
    },
  },
  phone_number: {
    label: 'phone number',
    setting: 'phone_number',
    normalize: (raw: string) => normalizePhone(raw),
    resource: (db: Db, id: string) => {
      const r = db.select().from(phoneNumbers).where(eq(phoneNumbers.id, id)).get()
      return r ? toPhoneNumberResource(r) : null
    },
  },
} as const

const idKindOf = (kind: ContactKind) => (kind === 'email_address' ? 'emailAddress' : 'phoneNumber')

/** One of the user's own identifiers of that kind, or 404 (another user's reads as missing). */
export function requireOwnContact(db: Db, kind: ContactKind, userId: string, id: string): ContactRow {
  let row: ContactRow | null = null
  if (isId(idKindOf(kind), id)) {
    if (kind === 'email_address') {
      const r = db
        .select()
        .from(emailAddresses)
        .where(and(eq(emailAddresses.id, id), eq(emailAddresses.userId, userId)))
        .get()
      row = r ? fromEmail(r) : null
    } else {
      const r = db
        .select()
        .from(phoneNumbers)
        .where(and(eq(phoneNumbers.id, id), eq(phoneNumbers.userId, userId)))
        .get()
      row = r ? fromPhone(r) : null
    }
  }
  if (!row) throw notFound(CONTACT_KINDS[kind].label)
  return row
}

type ResourceOf<K extends ContactKind> = K extends 'email_address'
  ? ReturnType<typeof toEmailAddressResource>
  : ReturnType<typeof toPhoneNumberResource>

/** The wire shape of one of a kind's rows, or 404. */
export function contactResource<K extends ContactKind>(db: Db, kind: K, id: string): ResourceOf<K> {
  const r = CONTACT_KINDS[kind].resource(db, id)
  if (!r) throw notFound(CONTACT_KINDS[kind].label)
  return r as ResourceOf<K>
}

/** A new identifier starts unverified: it cannot sign in until a challenge verifies it. */
export function addContact<K extends ContactKind>(
  tx: EnvTx,
  ctx: EnvContext,
  kind: K,
  userId: string,
  value: string,
) {
  const now = ctx.clock.now()
  const id = newId(idKindOf(kind))
  if (kind === 'email_address') {
    if (
      tx
        .select({ id: emailAddresses.id })
        .from(emailAddresses)
        .where(eq(emailAddresses.emailAddress, value))
        .get()
    )
      throw formIdentifierExists(kind)
    tx.insert(emailAddresses)
      .values({
        id,
        userId,
        emailAddress: value,
        verified: false,
        verificationStrategy: null,
        createdAt: now,
        updatedAt: now,
      })
      .run()
  } else {
    if (
      tx.select({ id: phoneNumbers.id }).from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, value)).get()
    )
      throw formIdentifierExists(kind)
    tx.insert(phoneNumbers)
      .values({
        id,
        userId,
        phoneNumber: value,
        verified: false,
        verificationStrategy: null,
        reservedForSecondFactor: false,
        defaultSecondFactor: false,
        createdAt: now,
        updatedAt: now,
      })
      .run()
  }
  emitUserUpdated(tx, ctx, userId)
  return contactResource(tx, kind, id)
}

const primaryColumn = (kind: ContactKind) =>
  kind === 'email_address' ? ('primaryEmailAddressId' as const) : ('primaryPhoneNumberId' as const)

/**
 * Removes an identifier. A primary email address must be replaced first; a primary phone number
 * simply stops being primary; a number reserved for second factor must be released first.
 */
export function removeContact(tx: EnvTx, ctx: EnvContext, kind: ContactKind, row: ContactRow) {
  const user = tx.select().from(users).where(eq(users.id, row.userId)).get()
  const isPrimary = user?.[primaryColumn(kind)] === row.id
  if (kind === 'email_address' && isPrimary) {
    throw primaryAddressDeletion()
  }
  if (row.reservedForSecondFactor) {
    throw reservedForSecondFactor()
  }
  if (kind === 'email_address') tx.delete(emailAddresses).where(eq(emailAddresses.id, row.id)).run()
  else tx.delete(phoneNumbers).where(eq(phoneNumbers.id, row.id)).run()
  if (isPrimary)
    tx.update(users)
      .set({ [primaryColumn(kind)]: null, updatedAt: ctx.clock.now() })
      .where(eq(users.id, row.userId))
      .run()
  emitUserUpdated(tx, ctx, row.userId)
  return { object: kind, id: row.id, deleted: true as const }
}

/** Marks an identifier verified; the user's first verified one of its kind becomes primary. */
export function markContactVerified(
  tx: EnvTx,
  ctx: EnvContext,
  kind: ContactKind,
  id: string,
  strategy: string,
): ContactRow | null {
  const now = ctx.clock.now()
  let row: ContactRow | null
  if (kind === 'email_address') {
    tx.update(emailAddresses)
      .set({ verified: true, verificationStrategy: strategy, updatedAt: now })
      .where(eq(emailAddresses.id, id))
      .run()
    const r = tx.select().from(emailAddresses).where(eq(emailAddresses.id, id)).get()
    row = r ? fromEmail(r) : null
  } else {
    tx.update(phoneNumbers)
      .set({ verified: true, verificationStrategy: strategy, updatedAt: now })
      .where(eq(phoneNumbers.id, id))
      .run()
    const r = tx.select().from(phoneNumbers).where(eq(phoneNumbers.id, id)).get()
    row = r ? fromPhone(r) : null
  }
  if (!row) return null
  const user = tx.select().from(users).where(eq(users.id, row.userId)).get()
  if (user && !user[primaryColumn(kind)])
    tx.update(users)
      .set({ [primaryColumn(kind)]: row.id, updatedAt: now })
      .where(eq(users.id, user.id))
      .run()
  emitUserUpdated(tx, ctx, row.userId)
  return row
}

export interface PhoneFlags {
  is_primary?: boolean
  reserved_for_second_factor?: boolean
  default_second_factor?: boolean
}

/** A number's primary and second-factor flags; only a verified number takes any of them. */
export function updatePhoneFlags(tx: EnvTx, ctx: EnvContext, row: ContactRow, input: PhoneFlags) {
  const phone = tx.select().from(phoneNumbers).where(eq(phoneNumbers.id, row.id)).get()
  const user = tx.select().from(users).where(eq(users.id, row.userId)).get()
  if (!phone || !user) throw notFound('phone number')
  const needsVerified = input.is_primary || input.reserved_for_second_factor || input.default_second_factor
  if (needsVerified && !phone.verified) {
    throw phoneNotVerified()
  }
  if (input.default_second_factor && !(input.reserved_for_second_factor ?? phone.reservedForSecondFactor)) {
    throw formError(
      'form_param_value_invalid',
      'default_second_factor',
      'needs a second-factor number',
      'Only a number reserved for second factor can be the default one.',
    )
  }
  if (input.is_primary === false && user.primaryPhoneNumberId === phone.id) {
    throw formError(
      'form_param_value_invalid',
      'is_primary',
      'cannot be unset',
      'Make another number primary instead.',
    )
  }
  const now = ctx.clock.now()
  const set: Partial<PhoneNumberRow> = { updatedAt: now }
  if (input.reserved_for_second_factor !== undefined)
    set.reservedForSecondFactor = input.reserved_for_second_factor
  if (input.default_second_factor !== undefined) set.defaultSecondFactor = input.default_second_factor
  if (input.reserved_for_second_factor === false) set.defaultSecondFactor = false
  if (set.defaultSecondFactor) {
    tx.update(phoneNumbers).set({ defaultSecondFactor: false }).where(eq(phoneNumbers.userId, user.id)).run()
  }
  tx.update(phoneNumbers).set(set).where(eq(phoneNumbers.id, phone.id)).run()
  if (input.is_primary)
    tx.update(users)
      .set({ primaryPhoneNumberId: phone.id, updatedAt: now })
      .where(eq(users.id, user.id))
      .run()
  emitUserUpdated(tx, ctx, user.id)
  return contactResource(tx, 'phone_number', phone.id)
}
