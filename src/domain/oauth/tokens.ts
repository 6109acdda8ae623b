import { and, eq, isNotNull, isNull, lt, or } from 'drizzle-orm'
import { sha256Hex } from '../../crypto/secrets'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type OauthCodeRow, type OauthTokenRow, oauthCodes, oauthGrants, oauthTokens } from './schema'

type Reader = EnvContext['db'] | EnvTx

/** Authorization codes live ten minutes (Clerk's value; RFC 6749 §4.1.2 says at most ten). */
export const CODE_TTL_MS = 10 * 60 * 1000

export type NewCode = Omit<OauthCodeRow, 'id' | 'codeHash' | 'usedAt' | 'createdAt' | 'expiresAt'>

/** Stores a code by its hash; the plaintext goes only into the redirect. */
export function insertCode(tx: EnvTx, ctx: EnvContext, code: string, input: NewCode): void {
  const now = ctx.clock.now()
  tx.insert(oauthCodes)
    .values({
      ...input,
      id: newId('oauthCode'),
      codeHash: sha256Hex(code),
      usedAt: null,
      createdAt: now,
      expiresAt: now + CODE_TTL_MS,
    })
    .run()
}

export const findCode = (db: Reader, code: string): OauthCodeRow | undefined =>
  db
    .select()
    .from(oauthCodes)
    .where(eq(oauthCodes.codeHash, sha256Hex(code)))
    .get()

/** Marks the code used unless it already was: true when this call claimed it. */
export function claimCode(tx: EnvTx, id: string, now: number): boolean {
  const r = tx
    .update(oauthCodes)
    .set({ usedAt: now })
    .where(and(eq(oauthCodes.id, id), isNull(oauthCodes.usedAt)))
    .run() as unknown as { changes: number }
  return r.changes === 1
}

/** RFC 6749 §4.1.2: a code used twice takes back every token it led to. */
export function revokeTokensOfCode(tx: EnvTx, codeId: string): number {
  const r = tx.delete(oauthTokens).where(eq(oauthTokens.codeId, codeId)).run() as unknown as {
    changes: number
  }
  return r.changes
}

export type NewToken = Omit<OauthTokenRow, 'id' | 'lookup' | 'usedAt' | 'createdAt'>

/** Records an access token's jti or a refresh token's hash. */
export function insertToken(
  tx: EnvTx,
  ctx: EnvContext,
  kind: 'access' | 'refresh',
  secretOrJti: string,
  input: Omit<NewToken, 'kind'>,
): string {
  const id = newId('oauthToken')
  tx.insert(oauthTokens)
    .values({
      ...input,
      id,
      kind,
      lookup: kind === 'refresh' ? sha256Hex(secretOrJti) : secretOrJti,
      usedAt: null,
      createdAt: ctx.clock.now(),
    })
    .run()
  return id
}

/** A refresh token by its plaintext (any state: spent ones are how reuse is detected). */
export const findRefreshToken = (db: Reader, token: string): OauthTokenRow | undefined =>
  db
    .select()
    .from(oauthTokens)
    .where(and(eq(oauthTokens.lookup, sha256Hex(token)), eq(oauthTokens.kind, 'refresh')))
    .get()

/** An access token's record by its jti: gone once its grant is revoked. */
export const findAccessToken = (ctx: EnvContext, jti: string): OauthTokenRow | undefined =>
  ctx.db
    .select()
    .from(oauthTokens)
    .where(and(eq(oauthTokens.lookup, jti), eq(oauthTokens.kind, 'access')))
    .get()

/** Spends a refresh token unless it already was: true when this call spent it. */
export function spendRefreshToken(tx: EnvTx, id: string, now: number): boolean {
  const r = tx
    .update(oauthTokens)
    .set({ usedAt: now })
    .where(and(eq(oauthTokens.id, id), isNull(oauthTokens.usedAt)))
    .run() as unknown as { changes: number }
  return r.changes === 1
}

/** RFC 7009: a revoked token, and for a refresh token every token of its grant. */
export function revokeToken(tx: EnvTx, row: OauthTokenRow) {
  if (row.kind === 'access') tx.delete(oauthTokens).where(eq(oauthTokens.id, row.id)).run()
  else tx.delete(oauthTokens).where(eq(oauthTokens.grantId, row.grantId)).run()
}

export function touchGrant(tx: EnvTx, grantId: string, now: number) {
  tx.update(oauthGrants).set({ lastUsedAt: now }).where(eq(oauthGrants.id, grantId)).run()
}

/**
 * The purge job: codes past their expiry (used or not), access-token records past theirs, and
 * spent refresh tokens after `spentRetentionMs` (until then, presenting one again revokes its grant).
 */
export function purgeOauthTokens(
  ctx: EnvContext,
  spentRetentionMs: number,
): { codes: number; tokens: number } {
  const now = ctx.clock.now()
  return ctx.db.transaction((tx) => {
    const codes = tx.delete(oauthCodes).where(lt(oauthCodes.expiresAt, now)).run() as unknown as {
      changes: number
    }
    const tokens = tx
      .delete(oauthTokens)
      .where(
        or(
          and(isNotNull(oauthTokens.expiresAt), lt(oauthTokens.expiresAt, now)),
          and(eq(oauthTokens.kind, 'refresh'), lt(oauthTokens.usedAt, now - spentRetentionMs)),
        ),
      )
      .run() as unknown as { changes: number }
    return { codes: codes.changes, tokens: tokens.changes }
  })
}
