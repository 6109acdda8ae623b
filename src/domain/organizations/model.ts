import { t } from 'elysia'
import { PaginationQuery } from '../../http/shared/pagination'
import { ChallengeResource } from '../challenges/model'

const Metadata = t.Record(t.String(), t.Unknown())
const MetadataInput = t.Record(t.String({ maxLength: 256 }), t.Unknown())
const Deleted = <O extends string>(object: O) =>
  t.Object({ object: t.Literal(object), id: t.String(), deleted: t.Literal(true) })

// ---- resources ----------------------------------------------------------------------------

const organizationFields = {
  object: t.Literal('organization'),
  id: t.String(),
  name: t.String(),
  slug: t.String(),
  image_url: t.Nullable(t.String()),
  has_image: t.Boolean(),
  members_count: t.Integer(),
  pending_invitations_count: t.Integer(),
  max_allowed_memberships: t.Integer(),
  admin_delete_enabled: t.Boolean(),
  public_metadata: Metadata,
  created_by: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
}
export const OrganizationResource = t.Object({ ...organizationFields, private_metadata: Metadata })
export const FapiOrganizationResource = t.Object(organizationFields)

export const PublicUserData = t.Object({
  user_id: t.String(),
  first_name: t.Nullable(t.String()),
  last_name: t.Nullable(t.String()),
  image_url: t.Nullable(t.String()),
  has_image: t.Boolean(),
  identifier: t.Nullable(t.String()),
  username: t.Nullable(t.String()),
  banned: t.Boolean(),
})

export const PublicOrganizationData = t.Object({
  id: t.String(),
  name: t.String(),
  slug: t.String(),
  image_url: t.Nullable(t.String()),
  has_image: t.Boolean(),
})

const membershipFields = {
  object: t.Literal('organization_membership'),
  id: t.String(),
  role: t.String(),
  role_name: t.String(),
  permissions: t.Array(t.String()),
  public_metadata: Metadata,
  public_user_data: PublicUserData,
  created_at: t.Integer(),
  updated_at: t.Integer(),
}
export const MembershipResource = t.Object({
  ...membershipFields,
  private_metadata: Metadata,
  organization: OrganizationResource,
})
export const FapiMembershipResource = t.Object({
  ...membershipFields,
  organization: FapiOrganizationResource,
})

const invitationFields = {
  object: t.Literal('organization_invitation'),
  id: t.String(),
  email_address: t.String(),
  role: t.String(),
  role_name: t.String(),
  organization_id: t.String(),
  inviter_user_id: t.Nullable(t.String()),
  status: t.Union([t.Literal('pending'), t.Literal('accepted'), t.Literal('revoked'), t.Literal('expired')]),
  /** `invitation` (someone invited them) or `domain` (a verified domain's automatic invitation). */
  source: t.Union([t.Literal('invitation'), t.Literal('domain')]),
  public_metadata: Metadata,
  /** The link with the ticket: only in the answer that created the invitation. */
  url: t.Nullable(t.String()),
  expire_at: t.Integer(),
  /** `expire_at` again, under Clerk's name (its SDKs read `expires_at`). */
  expires_at: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
}
export const InvitationResource = t.Object({ ...invitationFields, private_metadata: Metadata })
export const FapiInvitationResource = t.Object({
  ...invitationFields,
  public_organization_data: PublicOrganizationData,
})

const DnsRecord = t.Object({ type: t.Literal('TXT'), name: t.String(), value: t.String() })

export const DomainResource = t.Object({
  object: t.Literal('organization_domain'),
  id: t.String(),
  organization_id: t.String(),
  name: t.String(),
  enrollment_mode: t.String(),
  affiliation_email_address: t.Nullable(t.String()),
  verification: t.Object({
    status: t.Union([t.Literal('verified'), t.Literal('unverified')]),
    strategy: t.Nullable(t.String()),
    attempts: t.Integer(),
    expire_at: t.Nullable(t.Integer()),
    verified_at: t.Nullable(t.Integer()),
  }),
  /** Publish this TXT record to verify with `dns_txt`. */
  dns_record: DnsRecord,
  total_pending_invitations: t.Integer(),
  total_pending_suggestions: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const DomainChallengeResource = t.Composite([
  ChallengeResource,
  t.Object({ dns_record: t.Nullable(DnsRecord) }),
])

export const MembershipRequestResource = t.Object({
  object: t.Literal('organization_membership_request'),
  id: t.String(),
  organization_id: t.String(),
  status: t.Union([t.Literal('pending'), t.Literal('accepted'), t.Literal('rejected')]),
  public_user_data: PublicUserData,
  public_organization_data: PublicOrganizationData,
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const PermissionResource = t.Object({
  object: t.Literal('permission'),
  id: t.String(),
  key: t.String(),
  name: t.String(),
  description: t.String(),
  type: t.Union([t.Literal('system'), t.Literal('user')]),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const RoleResource = t.Object({
  object: t.Literal('role'),
  id: t.String(),
  key: t.String(),
  name: t.String(),
  description: t.String(),
  /** Holds org:sys_memberships:manage, so it could be the creator role. */
  is_creator_eligible: t.Boolean(),
  is_creator_role: t.Boolean(),
  is_default_role: t.Boolean(),
  permissions: t.Array(PermissionResource),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const DeletedOrganization = t.Object({
  object: t.Literal('organization'),
  id: t.String(),
  slug: t.String(),
  deleted: t.Literal(true),
})
export const DeletedDomain = t.Object({
  object: t.Literal('organization_domain'),
  id: t.String(),
  organization_id: t.String(),
  name: t.String(),
  deleted: t.Literal(true),
})
export const DeletedRole = t.Object({
  object: t.Literal('role'),
  id: t.String(),
  key: t.String(),
  deleted: t.Literal(true),
})
export const DeletedPermission = t.Object({
  object: t.Literal('permission'),
  id: t.String(),
  key: t.String(),
  deleted: t.Literal(true),
})
export const DeletedMembership = Deleted('organization_membership')

// ---- inputs -------------------------------------------------------------------------------

const Name = t.String({ minLength: 1, maxLength: 256 })
const Slug = t.String({ minLength: 1, maxLength: 64 })
const RoleKey = t.String({ minLength: 1, maxLength: 80 })
const Url = t.String({ maxLength: 2048, format: 'uri' })

export const CreateOrganizationBody = t.Object(
  {
    name: Name,
    slug: t.Optional(Slug),
    created_by: t.Optional(t.String({ maxLength: 64 })),
    image_url: t.Optional(Url),
    max_allowed_memberships: t.Optional(t.Integer({ minimum: 0, maximum: 100_000 })),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)

export const UpdateOrganizationBody = t.Object(
  {
    name: t.Optional(Name),
    slug: t.Optional(Slug),
    image_url: t.Optional(t.Nullable(Url)),
    max_allowed_memberships: t.Optional(t.Nullable(t.Integer({ minimum: 0, maximum: 100_000 }))),
    admin_delete_enabled: t.Optional(t.Boolean()),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)

export const ListOrganizationsQuery = t.Object(
  { ...PaginationQuery, query: t.Optional(t.String({ maxLength: 256 })) },
  { additionalProperties: false },
)

export const ListMembershipsQuery = t.Object(
  { ...PaginationQuery, role: t.Optional(RoleKey) },
  { additionalProperties: false },
)

export const CreateMembershipBody = t.Object(
  {
    user_id: t.String({ maxLength: 64 }),
    role: RoleKey,
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)

/** Metadata to deep-merge into an organization or a membership. */
export const MetadataBody = t.Object(
  {
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)

export const UpdateMembershipBody = t.Object(
  {
    role: t.Optional(RoleKey),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
  },
  { additionalProperties: false },
)

export const CreateInvitationBody = t.Object(
  {
    email_address: t.String({ maxLength: 320 }),
    role: t.Optional(RoleKey),
    inviter_user_id: t.Optional(t.String({ maxLength: 64 })),
    public_metadata: t.Optional(MetadataInput),
    private_metadata: t.Optional(MetadataInput),
    redirect_url: t.Optional(Url),
    expires_in_days: t.Optional(t.Integer({ minimum: 1, maximum: 365 })),
    notify: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
)

export const InvitationStatus = t.Union([
  t.Literal('pending'),
  t.Literal('accepted'),
  t.Literal('revoked'),
  t.Literal('expired'),
])

export const ListInvitationsQuery = t.Object(
  { ...PaginationQuery, status: t.Optional(InvitationStatus) },
  { additionalProperties: false },
)

export const EnrollmentMode = t.Union([
  t.Literal('manual_invitation'),
  t.Literal('automatic_invitation'),
  t.Literal('automatic_suggestion'),
])

export const CreateDomainBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 253 }),
    enrollment_mode: t.Optional(EnrollmentMode),
    /** Skip verification: the backend vouches for the domain. Defaults to false. */
    verified: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
)

export const UpdateDomainBody = t.Object(
  { enrollment_mode: t.Optional(EnrollmentMode) },
  { additionalProperties: false },
)

export const ListDomainsQuery = t.Object(
  { ...PaginationQuery, verified: t.Optional(t.Boolean()) },
  { additionalProperties: false },
)

export const CreateDomainChallengeBody = t.Object(
  {
    strategy: t.Union([t.Literal('dns_txt'), t.Literal('email_code')]),
    /** email_code: an address at the domain. */
    email_address: t.Optional(t.String({ maxLength: 320 })),
  },
  { additionalProperties: false },
)

export const AnswerDomainChallengeBody = t.Object(
  { code: t.Optional(t.String({ maxLength: 32 })) },
  { additionalProperties: false },
)

export const ListQuery = t.Object(PaginationQuery, { additionalProperties: false })

export const CreateRoleBody = t.Object(
  {
    key: RoleKey,
    name: t.String({ minLength: 1, maxLength: 128 }),
    description: t.Optional(t.String({ maxLength: 1024 })),
    /** Permission keys (or ids). */
    permissions: t.Optional(t.Array(t.String({ maxLength: 160 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
)

export const UpdateRoleBody = t.Object(
  {
    key: t.Optional(RoleKey),
    name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    description: t.Optional(t.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
)

export const RolePermissionsBody = t.Object(
  { permissions: t.Array(t.String({ maxLength: 160 }), { maxItems: 100 }) },
  { additionalProperties: false },
)

export const CreatePermissionBody = t.Object(
  {
    key: t.String({ minLength: 1, maxLength: 160 }),
    name: t.String({ minLength: 1, maxLength: 128 }),
    description: t.Optional(t.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
)

export const ListPermissionsQuery = t.Object(
  { ...PaginationQuery, type: t.Optional(t.Union([t.Literal('system'), t.Literal('user')])) },
  { additionalProperties: false },
)

export const RequestStatus = t.Union([t.Literal('pending'), t.Literal('accepted'), t.Literal('rejected')])
export const ListRequestsQuery = t.Object(
  { ...PaginationQuery, status: t.Optional(RequestStatus) },
  { additionalProperties: false },
)

export const FapiInviteBody = t.Object(
  {
    email_address: t.String({ maxLength: 320 }),
    role: t.Optional(RoleKey),
    redirect_url: t.Optional(Url),
  },
  { additionalProperties: false },
)

export const FapiCreateOrganizationBody = t.Object(
  { name: Name, slug: t.Optional(Slug) },
  { additionalProperties: false },
)

export const ActiveOrganizationBody = t.Object(
  { organization_id: t.Nullable(t.String({ maxLength: 64 })) },
  { additionalProperties: false },
)
