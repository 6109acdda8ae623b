import type { UserAggregate } from '../../domain/users/serialize'

/** Claims the scopes open (reference §6, Clerk's names), for userinfo and the id_token. */
export function claimsFor(agg: UserAggregate, scopes: readonly string[]): Record<string, unknown> {
  const u = agg.user
  const out: Record<string, unknown> = {}
  if (scopes.includes('profile')) {
    const name = [u.firstName, u.lastName].filter(Boolean).join(' ')
    if (name) out.name = name
    if (u.firstName) out.given_name = u.firstName
    if (u.lastName) out.family_name = u.lastName
    if (u.username) out.preferred_username = u.username
    if (u.imageUrl) out.picture = u.imageUrl
  }
  if (scopes.includes('email')) {
    const primary = agg.emails.find((e) => e.id === u.primaryEmailAddressId) ?? agg.emails[0]
    if (primary) {
      out.email = primary.emailAddress
      out.email_verified = primary.verified
    }
  }
  if (scopes.includes('public_metadata')) {
    out.public_metadata = u.publicMetadata
    out.unsafe_metadata = u.unsafeMetadata
  }
  if (scopes.includes('private_metadata')) out.private_metadata = u.privateMetadata
  return out
}

export const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'at_hash',
  'azp',
  'sid',
  'jti',
  'name',
  'given_name',
  'family_name',
  'preferred_username',
  'picture',
  'email',
  'email_verified',
  'public_metadata',
  'unsafe_metadata',
  'private_metadata',
]
