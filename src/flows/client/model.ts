import { t } from 'elysia'
import { ChallengeResource } from '../../domain/challenges/model'
import { UserResource } from '../../domain/users/model'

export const FapiUserResource = t.Omit(UserResource, ['private_metadata'])

export const FapiSessionResource = t.Object({
  object: t.Literal('session'),
  id: t.String(),
  status: t.String(),
  expire_at: t.Nullable(t.Integer()),
  abandon_at: t.Nullable(t.Integer()),
  last_active_at: t.Integer(),
  last_active_organization_id: t.Nullable(t.String()),
  actor: t.Null(),
  user: t.Nullable(FapiUserResource),
  public_user_data: t.Nullable(
    t.Object({
      user_id: t.String(),
      first_name: t.Nullable(t.String()),
      last_name: t.Nullable(t.String()),
      image_url: t.Nullable(t.String()),
      has_image: t.Boolean(),
      username: t.Nullable(t.String()),
      identifier: t.Nullable(t.String()),
    }),
  ),
  factor_verification_age: t.Array(t.Integer()),
  tasks: t.Array(t.Object({ key: t.String() })),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

const Factor = t.Object({
  strategy: t.String(),
  safe_identifier: t.Nullable(t.String()),
  email_address_id: t.Optional(t.String()),
  phone_number_id: t.Optional(t.String()),
  primary: t.Optional(t.Boolean()),
})

export const SignInResource = t.Object({
  object: t.Literal('sign_in_attempt'),
  id: t.String(),
  status: t.String(),
  identifier: t.Nullable(t.String()),
  supported_identifiers: t.Array(t.String()),
  supported_first_factors: t.Array(Factor),
  supported_second_factors: t.Array(Factor),
  first_factor_verification: t.Nullable(ChallengeResource),
  second_factor_verification: t.Nullable(ChallengeResource),
  user_data: t.Nullable(
    t.Object({
      first_name: t.Nullable(t.String()),
      last_name: t.Nullable(t.String()),
      image_url: t.Nullable(t.String()),
      has_image: t.Boolean(),
    }),
  ),
  created_session_id: t.Nullable(t.String()),
  abandon_at: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

const Verification = t.Nullable(
  t.Object({
    status: t.String(),
    strategy: t.Nullable(t.String()),
    supported_strategies: t.Array(t.String()),
    next_action: t.String(),
    challenge: t.Nullable(ChallengeResource),
  }),
)

export const SignUpResource = t.Object({
  object: t.Literal('sign_up_attempt'),
  id: t.String(),
  status: t.String(),
  required_fields: t.Array(t.String()),
  optional_fields: t.Array(t.String()),
  missing_fields: t.Array(t.String()),
  unverified_fields: t.Array(t.String()),
  verifications: t.Object({
    email_address: Verification,
    phone_number: Verification,
    external_account: t.Optional(
      t.Nullable(
        t.Object({
          status: t.String(),
          strategy: t.String(),
          external_verification_redirect_url: t.Nullable(t.String()),
          challenge: ChallengeResource,
        }),
      ),
    ),
  }),
  email_address: t.Nullable(t.String()),
  phone_number: t.Nullable(t.String()),
  username: t.Nullable(t.String()),
  password_enabled: t.Boolean(),
  first_name: t.Nullable(t.String()),
  last_name: t.Nullable(t.String()),
  unsafe_metadata: t.Record(t.String(), t.Unknown()),
  created_user_id: t.Nullable(t.String()),
  created_session_id: t.Nullable(t.String()),
  abandon_at: t.Integer(),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

export const ClientResource = t.Object({
  object: t.Literal('client'),
  id: t.String(),
  sessions: t.Array(FapiSessionResource),
  sign_in: t.Nullable(SignInResource),
  sign_up: t.Nullable(SignUpResource),
  last_active_session_id: t.Nullable(t.String()),
  last_authentication_strategy: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})

/** Every FAPI mutation answers the changed object and the client it belongs to. */
export const Envelope = <T extends Parameters<typeof t.Nullable>[0]>(response: T) =>
  t.Object({ response, client: t.Nullable(ClientResource) })

export const TokenResource = t.Object({ object: t.Literal('token'), jwt: t.String() })
