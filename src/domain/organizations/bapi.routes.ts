import { t } from 'elysia'
import { challengeRoutes } from '../../http/shared/challenge-routes'
import { Paginated } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import * as domains from './domains'
import * as invitations from './invitations'
import {
  AnswerDomainChallengeBody,
  CreateDomainBody,
  CreateDomainChallengeBody,
  CreateInvitationBody,
  CreateMembershipBody,
  CreateOrganizationBody,
  CreatePermissionBody,
  CreateRoleBody,
  DeletedDomain,
  DeletedOrganization,
  DeletedPermission,
  DeletedRole,
  DomainChallengeResource,
  DomainResource,
  InvitationResource,
  ListDomainsQuery,
  ListInvitationsQuery,
  ListMembershipsQuery,
  ListOrganizationsQuery,
  ListPermissionsQuery,
  ListQuery,
  MembershipResource,
  MetadataBody,
  OrganizationResource,
  PermissionResource,
  RolePermissionsBody,
  RoleResource,
  UpdateDomainBody,
  UpdateMembershipBody,
  UpdateOrganizationBody,
  UpdateRoleBody,
} from './model'
import * as rbac from './rbac'
import * as orgs from './service'

const Id64 = t.String({ maxLength: 64 })
const OrgId = t.String({ maxLength: 96 })
const Org = t.Object({ id: OrgId })
const Member = t.Object({ id: OrgId, membership_id: Id64 })
const Inv = t.Object({ id: OrgId, inv_id: Id64 })
const Domain = t.Object({ id: OrgId, domain_id: Id64 })
const tags = ['Organizations']
const memberTags = ['Organizations: memberships']
const inviteTags = ['Organizations: invitations']
const domainTags = ['Organizations: domains']

export const organizationsBapi = capabilityRoutes('bapi:organizations')
  .get('/v1/organizations', ({ env, query }) => orgs.listOrganizations(env, query), {
    query: ListOrganizationsQuery,
    response: { 200: Paginated(OrganizationResource) },
    detail: { summary: 'List organizations (newest first; query matches name, slug, id)', tags },
  })
  .post('/v1/organizations', ({ env, body }) => orgs.createOrganization(env, body), {
    body: CreateOrganizationBody,
    response: { 200: OrganizationResource },
    detail: { summary: 'Create an organization (created_by joins in the creator role)', tags },
  })
  .get('/v1/organizations/:id', ({ env, params }) => orgs.getOrganization(env, params.id), {
    params: Org,
    response: { 200: OrganizationResource },
    detail: { summary: 'Get an organization by id or slug', tags },
  })
  .patch('/v1/organizations/:id', ({ env, params, body }) => orgs.updateOrganization(env, params.id, body), {
    params: Org,
    body: UpdateOrganizationBody,
    response: { 200: OrganizationResource },
    detail: { summary: 'Update name, slug, image, limits, metadata', tags },
  })
  .patch(
    '/v1/organizations/:id/metadata',
    ({ env, params, body }) => orgs.mergeOrganizationMetadata(env, params.id, body),
    {
      params: Org,
      body: MetadataBody,
      response: { 200: OrganizationResource },
      detail: { summary: 'Deep-merge metadata (null deletes a key)', tags },
    },
  )
  .delete('/v1/organizations/:id', ({ env, params }) => orgs.deleteOrganization(env, params.id), {
    params: Org,
    response: { 200: DeletedOrganization },
    detail: { summary: 'Delete an organization with its memberships, invitations and domains', tags },
  })
  // memberships
  .get(
    '/v1/organizations/:id/memberships',
    ({ env, params, query }) => orgs.listMembershipsBapi(env, params.id, query),
    {
      params: Org,
      query: ListMembershipsQuery,
      response: { 200: Paginated(MembershipResource) },
      detail: { summary: 'List members', tags: memberTags },
    },
  )
  .post(
    '/v1/organizations/:id/memberships',
    ({ env, params, body }) => orgs.addMembership(env, params.id, body),
    {
      params: Org,
      body: CreateMembershipBody,
      response: { 200: MembershipResource },
      detail: { summary: 'Add a member directly', tags: memberTags },
    },
  )
  .patch(
    '/v1/organizations/:id/memberships/:membership_id',
    ({ env, params, body }) => orgs.updateMembership(env, params.id, params.membership_id, body),
    {
      params: Member,
      body: UpdateMembershipBody,
      response: { 200: MembershipResource },
      detail: {
        summary: "Change a member's role or metadata (the member by membership id or user id)",
        tags: memberTags,
      },
    },
  )
  .patch(
    '/v1/organizations/:id/memberships/:membership_id/metadata',
    ({ env, params, body }) => orgs.mergeMembershipMetadata(env, params.id, params.membership_id, body),
    {
      params: Member,
      body: MetadataBody,
      response: { 200: MembershipResource },
      detail: {
        summary: "Deep-merge a member's metadata (by membership id or user id; null deletes a key)",
        tags: memberTags,
      },
    },
  )
  .delete(
    '/v1/organizations/:id/memberships/:membership_id',
    ({ env, params }) => orgs.deleteMembership(env, params.id, params.membership_id),
    {
      params: Member,
      response: { 200: MembershipResource },
      detail: {
        summary: 'Remove a member by membership id or user id (the last one who manages members stays)',
        tags: memberTags,
      },
    },
  )
  .get(
    '/v1/users/:id/organization-memberships',
    ({ env, params, query }) => orgs.listUserMembershipsBapi(env, params.id, query),
    {
      params: t.Object({ id: Id64 }),
      query: ListQuery,
      response: { 200: Paginated(MembershipResource) },
      detail: { summary: "A user's organization memberships", tags: memberTags },
    },
  )
  // invitations
  .get(
    '/v1/organizations/:id/invitations',
    ({ env, params, query }) => invitations.listOrgInvitations(env, params.id, query),
    {
      params: Org,
      query: ListInvitationsQuery,
      response: { 200: Paginated(InvitationResource) },
      detail: { summary: 'List invitations', tags: inviteTags },
    },
  )
  .post(
    '/v1/organizations/:id/invitations',
    ({ env, params, body }) => invitations.createOrgInvitation(env, params.id, body),
    {
      params: Org,
      body: CreateInvitationBody,
      response: { 200: InvitationResource },
      detail: { summary: 'Invite someone (emails a link with a ticket)', tags: inviteTags },
    },
  )
  .post(
    '/v1/organizations/:id/invitations/bulk',
    ({ env, params, body }) => invitations.createOrgInvitations(env, params.id, body),
    {
      params: Org,
      body: t.Array(CreateInvitationBody, { minItems: 1, maxItems: 10 }),
      response: { 200: t.Array(InvitationResource) },
      detail: { summary: 'Invite up to 10 at once (all or nothing)', tags: inviteTags },
    },
  )
  .get(
    '/v1/organizations/:id/invitations/:inv_id',
    ({ env, params }) => invitations.getOrgInvitation(env, params.id, params.inv_id),
    {
      params: Inv,
      response: { 200: InvitationResource },
      detail: { summary: 'Get an invitation', tags: inviteTags },
    },
  )
  .post(
    '/v1/organizations/:id/invitations/:inv_id/revoke',
    ({ env, params }) => invitations.revokeOrgInvitation(env, params.id, params.inv_id),
    {
      params: Inv,
      body: t.Optional(t.Object({ requesting_user_id: t.Optional(Id64) }, { additionalProperties: false })),
      response: { 200: InvitationResource },
      detail: { summary: 'Revoke a pending invitation', tags: inviteTags },
    },
  )
  // domains
  .get(
    '/v1/organizations/:id/domains',
    ({ env, params, query }) => domains.listDomains(env, params.id, query),
    {
      params: Org,
      query: ListDomainsQuery,
      response: { 200: Paginated(DomainResource) },
      detail: { summary: 'List domains', tags: domainTags },
    },
  )
  .post('/v1/organizations/:id/domains', ({ env, params, body }) => domains.addDomain(env, params.id, body), {
    params: Org,
    body: CreateDomainBody,
    response: { 200: DomainResource },
    detail: { summary: 'Add a domain (unverified unless verified: true)', tags: domainTags },
  })
  .patch(
    '/v1/organizations/:id/domains/:domain_id',
    ({ env, params, body }) => domains.updateDomain(env, params.id, params.domain_id, body),
    {
      params: Domain,
      body: UpdateDomainBody,
      response: { 200: DomainResource },
      detail: { summary: 'Update the enrollment mode', tags: domainTags },
    },
  )
  .delete(
    '/v1/organizations/:id/domains/:domain_id',
    ({ env, params }) => domains.deleteDomain(env, params.id, params.domain_id),
    {
      params: Domain,
      response: { 200: DeletedDomain },
      detail: { summary: 'Remove a domain', tags: domainTags },
    },
  )
  .use(
    challengeRoutes({
      name: 'bapi:organizations:domain-challenges',
      parent: '/v1/organizations/:id/domains/:domain_id',
      params: Domain,
      surface: 'bapi',
      tags: domainTags,
      issueBody: CreateDomainChallengeBody,
      answerBody: AnswerDomainChallengeBody,
      challenge: DomainChallengeResource,
      answered: DomainResource,
      summaries: {
        issue: 'Start verifying the domain (dns_txt or email_code)',
        answer: 'Answer with the email code (an empty body checks a dns_txt record now)',
        get: 'Poll a challenge (dns_txt looks the TXT record up)',
      },
      issue: (env, _actor, params, body) =>
        domains.createDomainChallenge(env, params.id!, params.domain_id!, body),
      answer: (env, _actor, params, cid, body) =>
        domains.answerDomainChallenge(env, params.id!, params.domain_id!, cid, body),
      get: (env, _actor, params, cid) => domains.getDomainChallenge(env, params.id!, params.domain_id!, cid),
    }),
  )

const roleTags = ['Roles and permissions']
const RoleId = t.Object({ id: Id64 })

export const rolesBapi = capabilityRoutes('bapi:roles')
  .get('/v1/roles', ({ env, query }) => rbac.listRoles(env, query), {
    query: ListQuery,
    response: { 200: Paginated(RoleResource) },
    detail: { summary: 'List roles (oldest first)', tags: roleTags },
  })
  .post('/v1/roles', ({ env, body }) => rbac.createRole(env, body), {
    body: CreateRoleBody,
    response: { 200: RoleResource },
    detail: { summary: 'Create a custom role', tags: roleTags },
  })
  .get('/v1/roles/:id', ({ env, params }) => rbac.getRole(env, params.id), {
    params: RoleId,
    response: { 200: RoleResource },
    detail: { summary: 'Get a role', tags: roleTags },
  })
  .patch('/v1/roles/:id', ({ env, params, body }) => rbac.updateRole(env, params.id, body), {
    params: RoleId,
    body: UpdateRoleBody,
    response: { 200: RoleResource },
    detail: { summary: "Update a role's key, name or description", tags: roleTags },
  })
  .delete('/v1/roles/:id', ({ env, params }) => rbac.deleteRole(env, params.id), {
    params: RoleId,
    response: { 200: DeletedRole },
    detail: { summary: 'Delete a role nobody holds', tags: roleTags },
  })
  .put(
    '/v1/roles/:id/permissions',
    ({ env, params, body }) => rbac.replaceRolePermissions(env, params.id, body.permissions),
    {
      params: RoleId,
      body: RolePermissionsBody,
      response: { 200: RoleResource },
      detail: { summary: "Replace a role's permissions (keys or ids)", tags: roleTags },
    },
  )
  .get('/v1/permissions', ({ env, query }) => rbac.listPermissions(env, query), {
    query: ListPermissionsQuery,
    response: { 200: Paginated(PermissionResource) },
    detail: { summary: 'List permissions, system and custom (oldest first)', tags: roleTags },
  })
  .post('/v1/permissions', ({ env, body }) => rbac.createPermission(env, body), {
    body: CreatePermissionBody,
    response: { 200: PermissionResource },
    detail: { summary: 'Create a custom permission (org:<feature>:<action>)', tags: roleTags },
  })
  .delete('/v1/permissions/:id', ({ env, params }) => rbac.deletePermission(env, params.id), {
    params: RoleId,
    response: { 200: DeletedPermission },
    detail: { summary: 'Delete a custom permission (roles lose it)', tags: roleTags },
  })
