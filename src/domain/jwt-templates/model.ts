import { type Static, t } from 'elysia'
import { CUSTOM_SIGNING_ALGORITHMS } from '../../crypto/custom-keys'
import { PaginationQuery } from '../../http/shared/pagination'

const Claims = t.Record(t.String(), t.Unknown())
const Algorithm = t.Union(CUSTOM_SIGNING_ALGORITHMS.map((a) => t.Literal(a)))

export const JwtTemplateResource = t.Object({
  object: t.Literal('jwt_template'),
  id: t.String(),
  name: t.String(),
  claims: Claims,
  lifetime: t.Integer(),
  allowed_clock_skew: t.Integer(),
  /** Whether the template signs with its own key; the key itself is never returned. */
  has_custom_signing_key: t.Boolean(),
  /** The custom key's algorithm; null when the environment's key (and its algorithm) signs. */
  signing_algorithm: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
export type JwtTemplateResource = Static<typeof JwtTemplateResource>

export const DeletedJwtTemplate = t.Object({
  object: t.Literal('jwt_template'),
  id: t.String(),
  deleted: t.Literal(true),
})

const Name = t.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' })
const Lifetime = t.Integer({ minimum: 30, maximum: 315_360_000 })
const Skew = t.Integer({ minimum: 0, maximum: 300 })
const KeyMaterial = t.String({ minLength: 1, maxLength: 16_384 })

export const CreateJwtTemplateBody = t.Object(
  {
    name: Name,
    claims: Claims,
    lifetime: t.Optional(Lifetime),
    allowed_clock_skew: t.Optional(Skew),
    signing_algorithm: t.Optional(Algorithm),
    /** Write-only: an HMAC secret (HS*) or a PEM private key. */
    custom_signing_key: t.Optional(t.Nullable(KeyMaterial)),
  },
  { additionalProperties: false },
)
export type CreateJwtTemplateBody = Static<typeof CreateJwtTemplateBody>

export const UpdateJwtTemplateBody = t.Object(
  {
    name: t.Optional(Name),
    claims: t.Optional(Claims),
    lifetime: t.Optional(Lifetime),
    allowed_clock_skew: t.Optional(Skew),
    signing_algorithm: t.Optional(t.Nullable(Algorithm)),
    /** null removes the custom key: the environment's key signs again. */
    custom_signing_key: t.Optional(t.Nullable(KeyMaterial)),
  },
  { additionalProperties: false },
)
export type UpdateJwtTemplateBody = Static<typeof UpdateJwtTemplateBody>

export const ListJwtTemplatesQuery = t.Object(PaginationQuery, { additionalProperties: false })
export type ListJwtTemplatesQuery = Static<typeof ListJwtTemplatesQuery>

export const JwtTemplateIdParams = t.Object({ id: t.String({ maxLength: 64 }) })
/** `:id` is the user id (Elysia's router wants one parameter name per path position). */
export const MintParams = t.Object({
  id: t.String({ maxLength: 64 }),
  name: t.String({ maxLength: 64 }),
})

export const TokenResource = t.Object({ object: t.Literal('token'), jwt: t.String() })
export type TokenResource = Static<typeof TokenResource>
