import type { EnvContext } from '../../tenancy/context'
import { accountsOfUser } from '../enterprise-sso/accounts'
import { externalAccountResources } from '../external-accounts/service'
import type { UserResource } from './model'
import type { EmailAddressRow, PhoneNumberRow, UserRow } from './schema'

export interface UserAggregate {
  user: UserRow
  emails: EmailAddressRow[]
  phones: PhoneNumberRow[]
  /** Enrolled second factors: a verified authenticator, unused backup codes. */
  mfa: { totp: boolean; backupCodes: number }
}

export const isLocked = (u: UserRow, now: number) =>
  u.lockedAt !== null && (u.lockedUntil === null || u.lockedUntil > now)

/**
 * The identities an address is linked to (`[{ type: 'oauth_google', id }]` in Clerk's shape).
 * Nothing links an address yet; the field is there because SDKs map over it unconditionally.
 */
const notLinked = (): Array<{ type: string; id: string }> => []

export const toEmailAddressResource = (e: EmailAddressRow) => ({
  object: 'email_address' as const,
  id: e.id,
  email_address: e.emailAddress,
  verification: {
    status: e.verified ? ('verified' as const) : ('unverified' as const),
    strategy: e.verificationStrategy,
  },
  linked_to: notLinked(),
  created_at: e.createdAt,
  updated_at: e.updatedAt,
})

export const toPhoneNumberResource = (p: PhoneNumberRow) => ({
  object: 'phone_number' as const,
  id: p.id,
  phone_number: p.phoneNumber,
  verification: {
    status: p.verified ? ('verified' as const) : ('unverified' as const),
    strategy: p.verificationStrategy,
  },
  linked_to: notLinked(),
  reserved_for_second_factor: p.reservedForSecondFactor,
  default_second_factor: p.defaultSecondFactor,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
})

/** The BAPI user (FAPI's /v1/me is the same minus private_metadata). */
export function toUserResource(
  ctx: EnvContext,
  { user: u, emails, phones, mfa }: UserAggregate,
): UserResource {
  const now = ctx.clock.now()
  const locked = isLocked(u, now)
  const lockout = ctx.settings().lockout
  return {
    object: 'user',
    id: u.id,
    external_id: u.externalId,
    username: u.username,
    first_name: u.firstName,
    last_name: u.lastName,
    image_url: u.imageUrl,
    has_image: u.imageUrl !== null,
    primary_email_address_id: u.primaryEmailAddressId,
    primary_phone_number_id: u.primaryPhoneNumberId,
    email_addresses: emails.map(toEmailAddressResource),
    phone_numbers: phones.map(toPhoneNumberResource),
    external_accounts: externalAccountResources(ctx, u.id),
    password_enabled: u.passwordDigest !== null,
    password_last_updated_at: u.passwordUpdatedAt,
    totp_enabled: mfa.totp,
    backup_code_enabled: mfa.backupCodes > 0,
    two_factor_enabled:
      mfa.totp || mfa.backupCodes > 0 || phones.some((p) => p.verified && p.reservedForSecondFactor),
    public_metadata: u.publicMetadata,
    private_metadata: u.privateMetadata,
    unsafe_metadata: u.unsafeMetadata,
    banned: u.banned,
    locked,
    lockout_expires_in_seconds:
      locked && u.lockedUntil !== null ? Math.ceil((u.lockedUntil - now) / 1000) : null,
    verification_attempts_remaining: lockout.enabled
      ? Math.max(0, lockout.max_attempts - u.failedVerificationAttempts)
      : null,
    last_sign_in_at: u.lastSignInAt || null,
    last_active_at: u.lastActiveAt,
    enterprise_accounts: accountsOfUser(ctx, u.id),
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  }
}
