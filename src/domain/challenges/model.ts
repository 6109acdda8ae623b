import { t } from 'elysia'

export const ChallengeResource = t.Object({
  object: t.Literal('challenge'),
  id: t.String(),
  parent_type: t.String(),
  parent_id: t.String(),
  step: t.String(),
  strategy: t.String(),
  status: t.Union([
    t.Literal('unverified'),
    t.Literal('verified'),
    t.Literal('failed'),
    t.Literal('expired'),
    t.Literal('transferable'),
  ]),
  safe_identifier: t.Nullable(t.String()),
  /** Redirect factors only: where to send the browser to verify. */
  external_verification_redirect_url: t.Optional(t.String()),
  target_id: t.Nullable(t.String()),
  attempts: t.Integer(),
  expire_at: t.Integer(),
  verified_at: t.Nullable(t.Integer()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const IssueChallengeBody = t.Object({
  strategy: t.String({ minLength: 1, maxLength: 64 }),
  email_address_id: t.Optional(t.String({ maxLength: 64 })),
  phone_number_id: t.Optional(t.String({ maxLength: 64 })),
  redirect_url: t.Optional(t.String({ maxLength: 2048 })),
})

export const AnswerChallengeBody = t.Object({
  code: t.Optional(t.String({ maxLength: 32 })),
  password: t.Optional(t.String({ maxLength: 256 })),
})
