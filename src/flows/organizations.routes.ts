import { t } from 'elysia'
import {
  ActiveOrganizationBody,
  DeletedMembership,
  FapiCreateOrganizationBody,
  FapiInvitationResource,
  FapiInviteBody,
  FapiMembershipResource,
  FapiOrganizationResource,
  ListMembershipsQuery,
  ListQuery,
  ListRequestsQuery,
  MembershipRequestResource,
} from '../domain/organizations/model'
import { envelope, withActor } from '../http/fapi/actor'
import { Paginated } from '../http/shared/pagination'
import { capabilityRoutes } from '../http/shared/routes'
import { Envelope, FapiSessionResource } from './client/model'
import * as fapi from './organizations'

const Id = t.Object({ id: t.String({ maxLength: 96 }) })
const me = ['Signed-in user: organizations']
const tags = ['Organizations (members)']

export const organizationsFapi = capabilityRoutes('fapi:organizations')
  .use(withActor)
  .get(
    '/v1/me/organization-memberships',
    ({ env, actor, query }) => envelope(env, actor, fapi.myMemberships(env, actor, query)),
    {
      query: ListQuery,
      response: { 200: Envelope(Paginated(FapiMembershipResource)) },
      detail: { summary: "The signed-in user's memberships", tags: me },
    },
  )
  .get(
    '/v1/me/organization-invitations',
    ({ env, actor, query }) => envelope(env, actor, fapi.myInvitations(env, actor, query)),
    {
      query: ListQuery,
      response: { 200: Envelope(Paginated(FapiInvitationResource)) },
      detail: { summary: "Pending invitations to the user's verified addresses", tags: me },
    },
  )
  .post(
    '/v1/me/organization-invitations/:id/accept',
    ({ env, actor, params }) => envelope(env, actor, fapi.acceptMyInvitation(env, actor, params.id)),
    {
      params: Id,
      response: { 200: Envelope(FapiInvitationResource) },
      detail: { summary: 'Accept an invitation (join in the invited role)', tags: me },
    },
  )
  .get(
    '/v1/me/organization-membership-requests',
    ({ env, actor, query }) => envelope(env, actor, fapi.myMembershipRequests(env, actor, query)),
    {
      query: ListRequestsQuery,
      response: { 200: Envelope(Paginated(MembershipRequestResource)) },
      detail: { summary: "The user's requests to join (from verified domains' suggestions)", tags: me },
    },
  )
  .post(
    '/v1/organizations',
    ({ env, actor, body }) => envelope(env, actor, fapi.createOrganizationAsUser(env, actor, body)),
    {
      body: FapiCreateOrganizationBody,
      response: { 200: Envelope(FapiOrganizationResource) },
      detail: { summary: 'Create an organization (when the instance lets users)', tags },
    },
  )
  .get(
    '/v1/organizations/:id',
    ({ env, actor, params }) => envelope(env, actor, fapi.getOrganizationAsMember(env, actor, params.id)),
    {
      params: Id,
      response: { 200: Envelope(FapiOrganizationResource) },
      detail: { summary: 'An organization the user is a member of', tags },
    },
  )
  .get(
    '/v1/organizations/:id/memberships',
    ({ env, actor, params, query }) =>
      envelope(env, actor, fapi.listOrganizationMembers(env, actor, params.id, query)),
    {
      params: Id,
      query: ListMembershipsQuery,
      response: { 200: Envelope(Paginated(FapiMembershipResource)) },
      detail: { summary: 'Members (requires org:sys_memberships:read)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/invitations',
    ({ env, actor, params, body }) => envelope(env, actor, fapi.inviteAsMember(env, actor, params.id, body)),
    {
      params: Id,
      body: FapiInviteBody,
      response: { 200: Envelope(FapiInvitationResource) },
      detail: { summary: 'Invite a member (requires org:sys_memberships:manage)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/leave',
    ({ env, actor, params }) => envelope(env, actor, fapi.leaveOrganization(env, actor, params.id)),
    {
      params: Id,
      response: { 200: Envelope(DeletedMembership) },
      detail: { summary: 'Leave an organization', tags },
    },
  )
  .get(
    '/v1/organizations/:id/membership-requests',
    ({ env, actor, params, query }) =>
      envelope(env, actor, fapi.listOrganizationRequests(env, actor, params.id, query)),
    {
      params: Id,
      query: ListRequestsQuery,
      response: { 200: Envelope(Paginated(MembershipRequestResource)) },
      detail: { summary: 'Requests to join (requires org:sys_memberships:manage)', tags },
    },
  )
  .post(
    '/v1/organizations/:id/membership-requests/:rid/accept',
    ({ env, actor, params }) =>
      envelope(env, actor, fapi.settleOrganizationRequest(env, actor, params.id, params.rid, 'accepted')),
    {
      params: t.Object({ id: t.String({ maxLength: 96 }), rid: t.String({ maxLength: 64 }) }),
      response: { 200: Envelope(MembershipRequestResource) },
      detail: { summary: 'Accept a request: the user joins in the default role', tags },
    },
  )
  .post(
    '/v1/organizations/:id/membership-requests/:rid/reject',
    ({ env, actor, params }) =>
      envelope(env, actor, fapi.settleOrganizationRequest(env, actor, params.id, params.rid, 'rejected')),
    {
      params: t.Object({ id: t.String({ maxLength: 96 }), rid: t.String({ maxLength: 64 }) }),
      response: { 200: Envelope(MembershipRequestResource) },
      detail: { summary: 'Reject a request', tags },
    },
  )
  .patch(
    '/v1/client/sessions/:sid/active-organization',
    ({ env, actor, params, body }) =>
      envelope(env, actor, fapi.setSessionOrganization(env, actor, params.sid, body.organization_id)),
    {
      params: t.Object({ sid: t.String({ maxLength: 64 }) }),
      body: ActiveOrganizationBody,
      response: { 200: Envelope(FapiSessionResource) },
      detail: { summary: "Set the session's active organization (null: personal account)", tags },
    },
  )
