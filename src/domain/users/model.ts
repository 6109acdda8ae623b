import { type Static, t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'
import { idPattern } from '../../lib/ids'
import { ExternalAccountResource } from '../external-accounts/model'

const Metadata = t.Record(t.String(), t.Unknown())
const Verification = t.Nullable(
  t.Object({
    status: t.Union([t.Literal('verified'), t.Literal('unverified')]),
    strategy: t.Nullable(t.String()),
  }),
)

/** Identities an email address or phone number is linked to (Clerk: `IdentificationLink`). */
const LinkedTo = t.Array(t.Object({ type: t.String(), id: t.String() }))

export const EmailAddressResource = t.Object({
  object: t.Literal('email_address'),
  id: t.String(),
  email_address: t.String(),
  verification: Verification,
  linked_to: LinkedTo,
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const PhoneNumberResource = t.Object({
  object: t.Literal('phone_number'),
  id: t.String(),
  phone_number: t.String(),
  verification: Verification,
  linked_to: LinkedTo,
  reserved_for_second_factor: t.Boolean(),
  default_second_factor: t.Boolean(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const UserResource = t.Object({
  object: t.Literal('user'),
  id: t.String(),
  external_id: t.Nullable(t.String()),
  username: t.Nullable(t.String()),
  first_name: t.Nullable(t.String()),
  last_name: t.Nullable(t.String()),
  image_url: t.Nullable(t.String()),
  has_image: t.Boolean(),
  primary_email_address_id: t.Nullable(t.String()),
  primary_phone_number_id: t.Nullable(t.String()),
  email_addresses: t.Array(EmailAddressResource),
  phone_numbers: t.Array(PhoneNumberResource),
  external_accounts: t.Array(ExternalAccountResource),
  password_enabled: t.Boolean(),
  password_last_updated_at: t.Nullable(t.Integer()),
  totp_enabled: t.Boolean(),
  backup_code_enabled: t.Boolean(),
  two_factor_enabled: t.Boolean(),
  public_metadata: Metadata,
  private_metadata: Metadata,
  unsafe_metadata: Metadata,
  banned: t.Boolean(),
  locked: t.Boolean(),
  lockout_expires_in_seconds: t.Nullable(t.Integer()),
  verification_attempts_remaining: t.Nullable(t.Integer()),
  last_sign_in_at: t.Nullable(t.Integer()),
  last_active_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type UserResource = Static<typeof UserResource>

export const DeletedUserResource = t.Object({
  object: t.Literal('user'),
  id: t.String(),
  deleted: t.Literal(true),
})

const Name = t.String({ maxLength: 256 })
const MetadataInput = t.Record(t.String({ maxLength: 256 }), t.Unknown())

export const CreateUserBody = t.Object(
  {
    email_address: t.Optional(t.Array(t.String({ maxLength: 320 }), { maxItems: 10 })),
    phone_number: t.Optional(t.Array(t.String({ maxLength: 32 }), { maxItems: 10 })),
    username: t.Optional(t.String({ maxLength: 64 })),
    password: t.Optional(t.String({ maxLength: 256 })),
    password_digest: t.Optional(t.String({ maxLength: 512 })),
    password_hasher: t.Optional(t.Union([t.Literal('bcrypt'), t.Literal('argon2id'), t.Literal('argon2i')])),
    skip_password_checks: t.Optional(t.Boolean()),
    skip_password_requirement: t.Optional(t.Boolean()),
    first_name: t.Optional(Name),
    last_name: t.Optional(Name),
    external_id: t.Optional(t.String({ minLength: 1, maxLength: 256 })),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
    unsafe_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)
export type CreateUserBody = Static<typeof CreateUserBody>

export const UpdateUserBody = t.Object(
  {
    username: t.Optional(t.Nullable(t.String({ maxLength: 64 }))),
    first_name: t.Optional(t.Nullable(Name)),
    last_name: t.Optional(t.Nullable(Name)),
    external_id: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 256 }))),
    password: t.Optional(t.String({ maxLength: 256 })),
    skip_password_checks: t.Optional(t.Boolean()),
    /** Ends every session of the user (a new password usually should). */
    sign_out_of_other_sessions: t.Optional(t.Boolean()),
    primary_email_address_id: t.Optional(t.String({ pattern: idPattern('emailAddress') })),
    primary_phone_number_id: t.Optional(t.String({ pattern: idPattern('phoneNumber') })),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
    unsafe_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)
export type UpdateUserBody = Static<typeof UpdateUserBody>

export const MetadataBody = t.Object(
  {
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
    unsafe_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)
export type MetadataBody = Static<typeof MetadataBody>

export const VerifyPasswordBody = t.Object(
  { password: t.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
)

export const ORDER_BY = ['created_at', 'updated_at', 'last_sign_in_at'] as const
const StringList = t.Array(t.String({ maxLength: 320 }), { maxItems: 100 })

export const UserFilters = {
  email_address: t.Optional(StringList),
  phone_number: t.Optional(StringList),
  username: t.Optional(StringList),
  external_id: t.Optional(StringList),
  user_id: t.Optional(StringList),
  query: t.Optional(t.String({ maxLength: 256 })),
  created_at_before: t.Optional(t.Integer({ minimum: 0 })),
  created_at_after: t.Optional(t.Integer({ minimum: 0 })),
}

export const CountUsersQuery = t.Object(UserFilters, { additionalProperties: false })
export type UserFilters = Static<typeof CountUsersQuery>

export const ListUsersQuery = t.Object(
  {
    ...UserFilters,
    ...PaginationQuery,
    order_by: t.Optional(
      t.Union(ORDER_BY.flatMap((o) => [t.Literal(o), t.Literal(`+${o}`), t.Literal(`-${o}`)])),
    ),
  },
  { additionalProperties: false },
)
export type ListUsersQuery = Static<typeof ListUsersQuery>

export const UserIdParams = t.Object({ id: t.String({ maxLength: 64 }) })

export const TotalCount = t.Object({ object: t.Literal('total_count'), total_count: t.Integer() })
export const VerifiedResult = t.Object({ verified: t.Boolean() })
