import { t } from 'elysia'
import { Paginated, PaginationQuery } from '../../http/shared/pagination'
import { capabilityRoutes } from '../../http/shared/routes'
import * as tickets from './service'

const SignInTokenResource = t.Object({
  object: t.Literal('sign_in_token'),
  id: t.String(),
  user_id: t.String(),
  status: t.String(),
  expire_at: t.Integer(),
  token: t.Optional(t.String()),
  url: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

const InvitationResource = t.Object({
  object: t.Literal('invitation'),
  id: t.String(),
  email_address: t.String(),
  public_metadata: t.Record(t.String(), t.Unknown()),
  status: t.String(),
  revoked: t.Boolean(),
  redirect_url: t.Nullable(t.String()),
  url: t.Nullable(t.String()),
  expire_at: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

const CreateInvitationBody = t.Object(
  {
    email_address: t.String({ maxLength: 320 }),
    public_metadata: t.Optional(t.Record(t.String(), t.Unknown())),
    redirect_url: t.Optional(t.String({ maxLength: 2048, format: 'uri' })),
    notify: t.Optional(t.Boolean()),
    expires_in_days: t.Optional(t.Integer({ minimum: 1, maximum: 365 })),
    ignore_existing: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
)

const Id = t.Object({ id: t.String({ maxLength: 64 }) })

export const ticketsBapi = capabilityRoutes('bapi:tickets')
  .post('/v1/sign-in-tokens', ({ env, body }) => tickets.createSignInToken(env, body), {
    body: t.Object(
      {
        user_id: t.String({ maxLength: 64 }),
        expires_in_seconds: t.Optional(t.Integer({ minimum: 60, maximum: 90 * 86400 })),
      },
      { additionalProperties: false },
    ),
    response: { 200: SignInTokenResource },
    detail: {
      summary: 'Mint a one-time sign-in ticket for a user (token shown once)',
      tags: ['Sign-in tokens'],
    },
  })
  .post('/v1/sign-in-tokens/:id/revoke', ({ env, params }) => tickets.revokeSignInToken(env, params.id), {
    params: Id,
    response: { 200: SignInTokenResource },
    detail: { summary: 'Revoke a pending sign-in token', tags: ['Sign-in tokens'] },
  })
  .post('/v1/invitations', ({ env, body }) => tickets.createInvitation(env, body), {
    body: CreateInvitationBody,
    response: { 200: InvitationResource },
    detail: { summary: 'Invite someone to sign up (emails a ticket link)', tags: ['Invitations'] },
  })
  .post('/v1/invitations/bulk', ({ env, body }) => tickets.createInvitations(env, body), {
    body: t.Array(CreateInvitationBody, { minItems: 1, maxItems: 100 }),
    response: { 200: t.Array(InvitationResource) },
    detail: { summary: 'Invite many at once (all or nothing)', tags: ['Invitations'] },
  })
  .get('/v1/invitations', ({ env, query }) => tickets.listInvitations(env, query), {
    query: t.Object(
      {
        ...PaginationQuery,
        status: t.Optional(
          t.Union([t.Literal('pending'), t.Literal('accepted'), t.Literal('revoked'), t.Literal('expired')]),
        ),
      },
      { additionalProperties: false },
    ),
    response: { 200: Paginated(InvitationResource) },
    detail: { summary: 'List invitations', tags: ['Invitations'] },
  })
  .post('/v1/invitations/:id/revoke', ({ env, params }) => tickets.revokeInvitation(env, params.id), {
    params: Id,
    response: { 200: InvitationResource },
    detail: { summary: 'Revoke a pending invitation', tags: ['Invitations'] },
  })
