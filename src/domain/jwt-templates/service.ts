import { and, eq, ne } from 'drizzle-orm'
import { type CustomSigningAlgorithm, importCustomKey, KeyMaterialError } from '../../crypto/custom-keys'
import { seal, unseal } from '../../crypto/seal'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { assertThat, formError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import { jsonDepthExceeds } from '../../lib/json-limits'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import { DEFAULT_CLOCK_SKEW, DEFAULT_LIFETIME, RESERVED_CLAIMS } from './defaults'
import type {
  CreateJwtTemplateBody,
  JwtTemplateResource,
  ListJwtTemplatesQuery,
  UpdateJwtTemplateBody,
} from './model'
import { type JwtTemplateRow, jwtTemplates } from './schema'
import { toJwtTemplateResource } from './serialize'
import { CLAIMS_MAX_DEPTH, compileClaims, ShortcodeError } from './shortcodes'

/** Claims travel in every token: keep them small. */
export const CLAIMS_MAX_BYTES = 16_384

export const keyAad = (id: string) => `jwt_templates.custom_signing_key:${id}`

export const unsealKey = (ctx: EnvContext, row: JwtTemplateRow) =>
  row.customSigningKey === null ? null : unseal(ctx.dataKey, row.customSigningKey, keyAad(row.id))

/**
 * Rejects reserved claim names, claims nested too deep (checked first, without recursion, so
 * nothing after it can overflow), oversized claims and malformed shortcodes (422, param `claims`).
 */
export function checkClaims(claims: Record<string, unknown>) {
  if (jsonDepthExceeds(claims, CLAIMS_MAX_DEPTH)) {
    throw formError(
      'form_param_format_invalid',
      'claims',
      'is too deep',
      `claims must not nest objects and arrays deeper than ${CLAIMS_MAX_DEPTH} levels.`,
    )
  }
  const reserved = RESERVED_CLAIMS.filter((c) => Object.hasOwn(claims, c))
  if (reserved.length) {
    throw formError(
      'jwt_template_reserved_claim',
      'claims',
      'contains a reserved claim',
      `The claim${reserved.length > 1 ? 's' : ''} ${reserved.join(', ')} cannot be set by a template: ` +
        `${RESERVED_CLAIMS.join(', ')} are always set by the server.`,
    )
  }
  if (Buffer.byteLength(JSON.stringify(claims)) > CLAIMS_MAX_BYTES) {
    throw formError(
      'form_param_format_invalid',
      'claims',
      'is too large',
      `claims must be at most ${CLAIMS_MAX_BYTES} bytes of JSON.`,
    )
  }
  try {
    compileClaims(claims)
  } catch (err) {
    if (err instanceof ShortcodeError)
      throw formError('form_param_format_invalid', 'claims', 'is invalid', err.message)
    throw err
  }
}

/**
 * Works out the signing setup after a create or an update: `key` is the plaintext material
 * (null for the env key). The material must fit the algorithm, and an algorithm only makes
 * sense with a custom key.
 */
function resolveSigning(
  requested: { alg: CustomSigningAlgorithm | null | undefined; key: string | null | undefined },
  current: { alg: CustomSigningAlgorithm | null; key: () => string | null },
): { alg: CustomSigningAlgorithm | null; key: string | null } {
  const key = requested.key === undefined ? current.key() : requested.key
  if (key === null) {
    if (requested.alg) {
      throw formError(
        'form_param_value_invalid',
        'signing_algorithm',
        'needs a custom signing key',
        "signing_algorithm applies only to a custom_signing_key; without one, tokens are signed with the environment's key.",
      )
    }
    return { alg: null, key: null }
  }
  const alg = requested.alg === undefined ? current.alg : requested.alg
  if (!alg) {
    throw formError(
      'form_param_missing',
      'signing_algorithm',
      'is missing',
      'signing_algorithm is required with a custom_signing_key.',
    )
  }
  try {
    importCustomKey(alg, key)
  } catch (err) {
    if (!(err instanceof KeyMaterialError)) throw err
    throw formError(
      'form_param_value_invalid',
      'custom_signing_key',
      'does not fit the signing algorithm',
      `custom_signing_key does not fit ${alg}: ${err.message}.`,
    )
  }
  return { alg, key }
}

function assertNameFree(tx: EnvTx, name: string, exceptId?: string) {
  const taken = tx
    .select({ id: jwtTemplates.id })
    .from(jwtTemplates)
    .where(and(eq(jwtTemplates.name, name), exceptId ? ne(jwtTemplates.id, exceptId) : undefined))
    .get()
  if (taken) {
    throw formError(
      'form_identifier_exists',
      'name',
      'is taken',
      `A JWT template named ${name} already exists.`,
    )
  }
}

const loadRow = (db: EnvContext['db'] | EnvTx, id: string) =>
  db.select().from(jwtTemplates).where(eq(jwtTemplates.id, id)).get()

export function getJwtTemplate(ctx: EnvContext, id: string): JwtTemplateResource {
  const row = isId('jwtTemplate', id) ? loadRow(ctx.db, id) : undefined
  assertThat(row, () => notFound('JWT template'))
  return toJwtTemplateResource(row)
}

/** Newest first. */
export function listJwtTemplates(ctx: EnvContext, q: ListJwtTemplatesQuery): Page<JwtTemplateResource> {
  const page = tablePage(ctx, jwtTemplates, undefined, q)
  return pageOf(page.rows.map(toJwtTemplateResource), page.next_cursor, page.total)
}

export function createJwtTemplate(ctx: EnvContext, input: CreateJwtTemplateBody): JwtTemplateResource {
  checkClaims(input.claims)
  const signing = resolveSigning(
    { alg: input.signing_algorithm, key: input.custom_signing_key },
    { alg: null, key: () => null },
  )
  const id = newId('jwtTemplate')
  const now = ctx.clock.now()
  const resource = withTx(ctx, (tx) => {
    assertNameFree(tx, input.name)
    tx.insert(jwtTemplates)
      .values({
        id,
        name: input.name,
        claims: input.claims,
        lifetime: input.lifetime ?? DEFAULT_LIFETIME,
        allowedClockSkew: input.allowed_clock_skew ?? DEFAULT_CLOCK_SKEW,
        signingAlgorithm: signing.alg,
        customSigningKey: signing.key === null ? null : seal(ctx.dataKey, signing.key, keyAad(id)),
        createdAt: now,
        updatedAt: now,
      })
      .run()
    const created = toJwtTemplateResource(loadRow(tx, id)!)
    emit(tx, ctx, 'jwtTemplate.created', created)
    return created
  })
  ctx.invalidate()
  return resource
}

export function updateJwtTemplate(
  ctx: EnvContext,
  id: string,
  input: UpdateJwtTemplateBody,
): JwtTemplateResource {
  const current = isId('jwtTemplate', id) ? loadRow(ctx.db, id) : undefined
  assertThat(current, () => notFound('JWT template'))
  if (input.claims) checkClaims(input.claims)
  // The stored key is unsealed and re-checked only when the signing setup changes.
  const signing =
    input.signing_algorithm === undefined && input.custom_signing_key === undefined
      ? null
      : resolveSigning(
          { alg: input.signing_algorithm, key: input.custom_signing_key },
          {
            alg: current.signingAlgorithm as CustomSigningAlgorithm | null,
            key: () => unsealKey(ctx, current),
          },
        )
  const now = ctx.clock.now()
  // Everything from the read above to the commit is synchronous: nothing can change the row between.
  const resource = withTx(ctx, (tx) => {
    if (input.name !== undefined) assertNameFree(tx, input.name, id)
    tx.update(jwtTemplates)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.claims !== undefined ? { claims: input.claims } : {}),
        ...(input.lifetime !== undefined ? { lifetime: input.lifetime } : {}),
        ...(input.allowed_clock_skew !== undefined ? { allowedClockSkew: input.allowed_clock_skew } : {}),
        ...(signing && {
          signingAlgorithm: signing.alg,
          customSigningKey:
            signing.key === null
              ? null
              : input.custom_signing_key === undefined
                ? current.customSigningKey
                : seal(ctx.dataKey, signing.key, keyAad(id)),
        }),
        updatedAt: now,
      })
      .where(eq(jwtTemplates.id, id))
      .run()
    const updated = toJwtTemplateResource(loadRow(tx, id)!)
    emit(tx, ctx, 'jwtTemplate.updated', updated)
    return updated
  })
  ctx.invalidate()
  return resource
}

export function deleteJwtTemplate(ctx: EnvContext, id: string) {
  if (!isId('jwtTemplate', id)) throw notFound('JWT template')
  const deleted = withTx(ctx, (tx) => {
    const row = loadRow(tx, id)
    assertThat(row, () => notFound('JWT template'))
    tx.delete(jwtTemplates).where(eq(jwtTemplates.id, id)).run()
    const gone = { object: 'jwt_template' as const, id, deleted: true as const }
    emit(tx, ctx, 'jwtTemplate.deleted', { ...gone, name: row.name })
    return gone
  })
  ctx.invalidate()
  return deleted
}
