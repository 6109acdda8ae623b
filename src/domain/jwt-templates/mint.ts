import { type KeyObject, randomBytes } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { type CustomSigningAlgorithm, importCustomKey } from '../../crypto/custom-keys'
import { signJwt } from '../../crypto/jws'
import { AppError, assertThat, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { findUser } from '../users/service'
import { shortcodeContext, type TemplateOrg, type TemplateSession } from './context'
import type { TokenResource } from './model'
import { type JwtTemplateRow, jwtTemplates } from './schema'
import { unsealKey } from './service'
import { type CompiledClaims, compileClaims, renderClaims } from './shortcodes'

export interface MintInput {
  userId: string
  /** The session the token is for (FAPI); null mints without one and `session.*` is null. */
  session: TemplateSession | null
  /** The requesting origin, set as `azp`; omitted when null. */
  origin?: string | null
  /** The session's active organization, once organizations exist. */
  org?: TemplateOrg | null
}

interface CompiledTemplate {
  row: JwtTemplateRow
  claims: CompiledClaims
  /** null: the env's current signing key. */
  custom: { alg: CustomSigningAlgorithm; key: KeyObject | Uint8Array } | null
}

const templateNotFound = (name: string) =>
  new AppError(404, [
    {
      code: 'resource_not_found',
      message: 'not found',
      long_message: `JWT template not found: no template is named ${name}.`,
      meta: { param_name: 'name' },
    },
  ])

/**
 * Templates are compiled (claims parsed, key unsealed and imported) on first use and kept on
 * the env handle until a write invalidates it. Only templates that exist are cached, so
 * unknown names cannot grow the map.
 */
function compiledTemplate(ctx: EnvContext, name: string): CompiledTemplate | null {
  const cache = ctx.cached('jwtTemplates.compiled', () => new Map<string, CompiledTemplate>())
  const hit = cache.get(name)
  if (hit) return hit
  const row = ctx
    .prepared('jwtTemplates.byName', (db) =>
      db
        .select()
        .from(jwtTemplates)
        .where(eq(jwtTemplates.name, sql.placeholder('name')))
        .prepare(),
    )
    .get({ name })
  if (!row) return null
  const key = unsealKey(ctx, row)
  const compiled: CompiledTemplate = {
    row,
    claims: compileClaims(row.claims),
    custom:
      key === null
        ? null
        : {
            alg: row.signingAlgorithm as CustomSigningAlgorithm,
            key: importCustomKey(row.signingAlgorithm as CustomSigningAlgorithm, key),
          },
  }
  cache.set(name, compiled)
  return compiled
}

/** The env's Frontend API URL, the same `iss` session tokens carry. */
export const issuer = (ctx: EnvContext) => ctx.frontendUrl()

/**
 * Mints a token from the named template: its claims with shortcodes resolved, then the
 * default claims (which always win), signed with the template's own key or the env key.
 */
export async function mintTemplateToken(
  ctx: EnvContext,
  name: string,
  input: MintInput,
): Promise<TokenResource> {
  const template = compiledTemplate(ctx, name)
  if (!template) throw templateNotFound(name)
  const user = findUser(ctx, input.userId)
  assertThat(user, () => notFound('user'))
  const now = ctx.clock.now()
  const iat = Math.floor(now / 1000)
  const claims = {
    ...renderClaims(template.claims, shortcodeContext(user, input.session, input.org ?? null)),
    iss: issuer(ctx),
    sub: user.user.id,
    iat,
    nbf: iat - template.row.allowedClockSkew,
    exp: iat + template.row.lifetime,
    jti: randomBytes(10).toString('hex'),
    ...(input.origin ? { azp: input.origin } : {}),
  }
  let jwt: string
  if (template.custom) {
    jwt = signJwt(template.custom.alg, template.custom.key, { typ: 'JWT' }, claims)
  } else {
    const envKey = ctx.keys.signingKey(now)
    jwt = signJwt(envKey.alg, envKey.privateKey, { kid: envKey.kid, typ: 'JWT' }, claims)
  }
  return { object: 'token', jwt }
}
