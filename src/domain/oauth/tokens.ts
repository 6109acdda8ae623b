import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import { sha256Hex } from '../../crypto/secrets'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type OauthCodeRow, type OauthTokenRow, oauthCodes, oauthGrants, oauthTokens } from './schema'

type Reader = EnvContext['db'] | EnvTx

/** Spent refresh tokens are kept this long: presenting one again in that time revokes its grant. */
export const SPENT_REFRESH_RETENTION_MS = 30 * 24 * 60 * 60 * 1000

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

export type NewToken = Omit<OauthTokenRow, 'id' | 'lookup' | 'usedAt' | 'createdAt' | 'accessJti'> & {
  accessJti?: string | null
}

/** Records an access token's jti or a refresh token's hash (a prepared insert: the refresh hot path). */
export function insertToken(
  tx: EnvTx,
  ctx: EnvContext,
  kind: 'access' | 'refresh',
  secretOrJti: string,
  input: Omit<NewToken, 'kind'>,
): string {
  const id = newId('oauthToken')
  const p = (name: string) => sql.placeholder(name)
  ctx
    .prepared('oauth.insertToken', (db) =>
      db
        .insert(oauthTokens)
        .values({
          id: p('id'),
          kind: p('kind'),
          lookup: p('lookup'),
          grantId: p('grantId'),
          applicationId: p('applicationId'),
          userId: p('userId'),
          sessionId: p('sessionId'),
          codeId: p('codeId'),
          parentId: p('parentId'),
          scopes: p('scopes'),
          authTime: p('authTime'),
          accessJti: p('accessJti'),
          usedAt: null,
          expiresAt: p('expiresAt'),
          createdAt: p('createdAt'),
        })
        .prepare(),
    )
    .run({
      ...input,
      accessJti: input.accessJti ?? null,
      id,
      kind,
      lookup: kind === 'refresh' ? sha256Hex(secretOrJti) : secretOrJti,
      createdAt: ctx.clock.now(),
    })
  void tx
  return id
}

const tokenByLookup = (ctx: EnvContext, kind: 'access' | 'refresh') =>
  ctx.prepared(`oauth.${kind}ByLookup`, (db) =>
    db
      .select()
      .from(oauthTokens)
      .where(and(eq(oauthTokens.lookup, sql.placeholder('lookup')), eq(oauthTokens.kind, kind)))
      .prepare(),
  )

/** A refresh token by its plaintext (any state: spent ones are how reuse is detected). */
export const findRefreshToken = (ctx: EnvContext, token: string): OauthTokenRow | undefined =>
  tokenByLookup(ctx, 'refresh').get({ lookup: sha256Hex(token) })

/**
 * An access token's record by its jti: its own row, or the refresh token minted with it (same
 * grant, user, session and scopes). Gone once its grant is revoked.
 */
export const findAccessToken = (ctx: EnvContext, jti: string): OauthTokenRow | undefined =>
  tokenByLookup(ctx, 'access').get({ lookup: jti }) ??
  ctx
    .prepared('oauth.accessByRefresh', (db) =>
      db
        .select()
        .from(oauthTokens)
        .where(eq(oauthTokens.accessJti, sql.placeholder('jti')))
        .prepare(),
    )
    .get({ jti })

/** RFC 7009 for one access token: its own row goes, or the refresh token forgets it. */
export function revokeAccessToken(tx: EnvTx, jti: string) {
  tx.delete(oauthTokens)
    .where(and(eq(oauthTokens.lookup, jti), eq(oauthTokens.kind, 'access')))
    .run()
  tx.update(oauthTokens).set({ accessJti: null }).where(eq(oauthTokens.accessJti, jti)).run()
}

/** Spends a refresh token unless it already was: true when this call spent it. */
export function spendRefreshToken(ctx: EnvContext, id: string, now: number): boolean {
  const r = ctx
    .prepared('oauth.spendRefresh', (db) =>
      db
        .update(oauthTokens)
        .set({ usedAt: sql.placeholder('now') as unknown as number })
        .where(and(eq(oauthTokens.id, sql.placeholder('id')), isNull(oauthTokens.usedAt)))
        .prepare(),
    )
    .run({ id, now }) as unknown as { changes: number }
  return r.changes === 1
}

/** RFC 7009: a revoked token, and for a refresh token every token of its grant. */
export function revokeToken(tx: EnvTx, row: OauthTokenRow) {
  if (row.kind === 'access') tx.delete(oauthTokens).where(eq(oauthTokens.id, row.id)).run()
  else tx.delete(oauthTokens).where(eq(oauthTokens.grantId, row.grantId)).run()
}

export function touchGrant(ctx: EnvContext, grantId: string, now: number) {
  ctx
    .prepared('oauth.touchGrant', (db) =>
      db
        .update(oauthGrants)
        .set({ lastUsedAt: sql.placeholder('now') as unknown as number })
        .where(eq(oauthGrants.id, sql.placeholder('id')))
        .prepare(),
    )
    .run({ id: grantId, now })
}

/**
 * The purge job: codes past their expiry (used or not), access-token records past theirs, and
 * spent refresh tokens after `spentRetentionMs` (until then, presenting one again revokes its grant).
 */
export function purgeOauthTokens(
  ctx: EnvContext,
  spentRetentionMs = SPENT_REFRESH_RETENTION_MS,
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
