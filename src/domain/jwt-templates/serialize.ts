import type { JwtTemplateResource } from './model'
import type { JwtTemplateRow } from './schema'

export const toJwtTemplateResource = (r: JwtTemplateRow): JwtTemplateResource => ({
  object: 'jwt_template',
  id: r.id,
  name: r.name,
  claims: r.claims,
  lifetime: r.lifetime,
  allowed_clock_skew: r.allowedClockSkew,
  has_custom_signing_key: r.customSigningKey !== null,
  signing_algorithm: r.customSigningKey !== null ? r.signingAlgorithm : null,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
})
