import type { EnvContext } from '../../tenancy/context'
import { maskIdentifier } from '../challenges/service'
import type { UserAggregate } from '../users/serialize'

export interface Factor {
  strategy: string
  safe_identifier: string | null
  email_address_id?: string
  phone_number_id?: string
  primary?: boolean
}

/** What the user can sign in with, given the env's settings and the user's identifiers. */
export function firstFactorsFor(ctx: EnvContext, agg: UserAggregate): Factor[] {
  const s = ctx.settings()
  const out: Factor[] = []
  const emails = agg.emails.filter((e) => e.verified)
  const phones = agg.phones.filter((p) => p.verified)
  const hasPassword = agg.user.passwordDigest !== null
  const primaryEmail = (id: string) => id === agg.user.primaryEmailAddressId
  const primaryPhone = (id: string) => id === agg.user.primaryPhoneNumberId
  if (s.first_factors.includes('password') && hasPassword)
    out.push({ strategy: 'password', safe_identifier: null })
  if (s.identifiers.email_address.enabled) {
    for (const strategy of ['email_code', 'email_link'] as const) {
      if (!s.first_factors.includes(strategy)) continue
      for (const e of emails) {
        out.push({
          strategy,
          safe_identifier: maskIdentifier(e.emailAddress),
          email_address_id: e.id,
          primary: primaryEmail(e.id),
        })
      }
    }
  }
  if (s.identifiers.phone_number.enabled && s.first_factors.includes('phone_code')) {
    for (const p of phones) {
      if (p.reservedForSecondFactor) continue
      out.push({
        strategy: 'phone_code',
        safe_identifier: maskIdentifier(p.phoneNumber),
        phone_number_id: p.id,
        primary: primaryPhone(p.id),
      })
    }
  }
  if (hasPassword) {
    for (const e of emails) {
      out.push({
        strategy: 'reset_password_email_code',
        safe_identifier: maskIdentifier(e.emailAddress),
        email_address_id: e.id,
        primary: primaryEmail(e.id),
      })
    }
    if (s.identifiers.phone_number.enabled) {
      for (const p of phones) {
        out.push({
          strategy: 'reset_password_phone_code',
          safe_identifier: maskIdentifier(p.phoneNumber),
          phone_number_id: p.id,
          primary: primaryPhone(p.id),
        })
      }
    }
  }
  return out
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A stable, plausible identifier id for an address nobody owns (same env, same answer). */
export function decoyId(ctx: EnvContext, identifier: string): string {
  const digest = new Bun.CryptoHasher('sha256').update(`${ctx.id}:${identifier.toLowerCase()}`).digest()
  let out = ''
  for (let i = 0; i < 26; i++) out += CROCKFORD[digest[i]! % 32]
  return `idn_0${out.slice(1)}`
}

/**
 * Factors for an identifier that matches no user, shown when enumeration protection is on:
 * the same shape a user with that one identifier and a password would get, so the response
 * does not tell whether the account exists.
 */
export function decoyFactorsFor(ctx: EnvContext, identifier: string): Factor[] {
  const s = ctx.settings()
  const out: Factor[] = []
  const masked = maskIdentifier(identifier)
  const id = decoyId(ctx, identifier)
  const email = identifier.includes('@')
  if (s.first_factors.includes('password')) out.push({ strategy: 'password', safe_identifier: null })
  if (email && s.identifiers.email_address.enabled) {
    for (const strategy of ['email_code', 'email_link'] as const) {
      if (s.first_factors.includes(strategy))
        out.push({ strategy, safe_identifier: masked, email_address_id: id, primary: true })
    }
    out.push({
      strategy: 'reset_password_email_code',
      safe_identifier: masked,
      email_address_id: id,
      primary: true,
    })
  } else if (!email && s.identifiers.phone_number.enabled) {
    if (s.first_factors.includes('phone_code'))
      out.push({ strategy: 'phone_code', safe_identifier: masked, phone_number_id: id, primary: true })
    out.push({
      strategy: 'reset_password_phone_code',
      safe_identifier: masked,
      phone_number_id: id,
      primary: true,
    })
  }
  return out
}

/** The user's enrolled second factors that the env accepts. */
export function secondFactorsFor(ctx: EnvContext, agg: UserAggregate): Factor[] {
  const allowed = ctx.settings().second_factors
  const out: Factor[] = []
  if (allowed.includes('totp') && agg.mfa.totp) out.push({ strategy: 'totp', safe_identifier: null })
  if (allowed.includes('phone_code')) {
    for (const p of agg.phones) {
      if (!p.verified || !p.reservedForSecondFactor) continue
      out.push({
        strategy: 'phone_code',
        safe_identifier: maskIdentifier(p.phoneNumber),
        phone_number_id: p.id,
        primary: p.defaultSecondFactor,
      })
    }
  }
  if (allowed.includes('backup_code') && agg.mfa.backupCodes > 0)
    out.push({ strategy: 'backup_code', safe_identifier: null })
  return out
}

/** Has the user any second factor at all (the `setup-mfa` task's condition)? */
export const hasSecondFactor = (agg: UserAggregate) =>
  agg.mfa.totp || agg.mfa.backupCodes > 0 || agg.phones.some((p) => p.verified && p.reservedForSecondFactor)
