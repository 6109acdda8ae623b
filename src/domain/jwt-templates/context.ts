import type { UserAggregate } from '../users/serialize'
import type { ShortcodeContext } from './shortcodes'

/** What a caller knows about the session a token is minted for (FAPI); null for BAPI mints. */
export interface TemplateSession {
  id: string
  /** Unix ms. */
  createdAt?: number | null
  /** Impersonation claim (`act`), null when the user signed in themselves. */
  actor?: Record<string, unknown> | null
  reverificationId?: string | null
}

/** The session's active organization and the user's membership in it (organizations come later). */
export interface TemplateOrg {
  id: string
  name: string
  slug: string | null
  imageUrl?: string | null
  publicMetadata?: Record<string, unknown>
  role: string
  permissions?: string[]
  membershipPublicMetadata?: Record<string, unknown>
}

const seconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : Math.floor(ms / 1000)

/**
 * The values shortcodes resolve against. Timestamps are Unix seconds, as in JWT claims.
 * private_metadata is deliberately absent: tokens travel to third parties.
 */
export function shortcodeContext(
  { user: u, emails, phones }: UserAggregate,
  session: TemplateSession | null,
  org: TemplateOrg | null,
): ShortcodeContext {
  const email = emails.find((e) => e.id === u.primaryEmailAddressId) ?? null
  const phone = phones.find((p) => p.id === u.primaryPhoneNumberId) ?? null
  const fullName = [u.firstName, u.lastName].filter(Boolean).join(' ') || null
  return {
    user: {
      id: u.id,
      external_id: u.externalId,
      first_name: u.firstName,
      last_name: u.lastName,
      full_name: fullName,
      username: u.username,
      image_url: u.imageUrl,
      profile_image_url: u.imageUrl,
      has_image: u.imageUrl !== null,
      primary_email_address: email?.emailAddress ?? null,
      email_verified: email?.verified ?? false,
      primary_phone_number: phone?.phoneNumber ?? null,
      phone_number_verified: phone?.verified ?? false,
      public_metadata: u.publicMetadata,
      unsafe_metadata: u.unsafeMetadata,
      created_at: seconds(u.createdAt),
      updated_at: seconds(u.updatedAt),
      last_sign_in_at: seconds(u.lastSignInAt || null),
    },
    session: session && {
      id: session.id,
      created_at: seconds(session.createdAt),
      actor: session.actor ?? null,
      reverification_id: session.reverificationId ?? null,
    },
    org: org && {
      id: org.id,
      name: org.name,
      slug: org.slug,
      image_url: org.imageUrl ?? null,
      public_metadata: org.publicMetadata ?? {},
      role: org.role,
      permissions: org.permissions ?? [],
    },
    org_membership: org && {
      role: org.role,
      permissions: org.permissions ?? [],
      public_metadata: org.membershipPublicMetadata ?? {},
    },
  }
}
