import { asc, eq } from 'drizzle-orm'
import { constantTimeEqual, randomToken, sha256Hex } from '../crypto/secrets'
import { newId } from '../lib/ids'
import type { EnvContext, EnvType } from './context'
import { removeEnvIndex } from './env-index'
import type { EnvTx } from './open'
import { environment, hosts, secretKeys } from './schema'
import type { InstanceSettings } from './settings'

export const publishableKey = (type: EnvType, host: string) =>
  `${type === 'production' ? 'pk_live_' : 'pk_test_'}${Buffer.from(`${host}$`).toString('base64')}`

export const secretKeyPrefix = (type: EnvType) => (type === 'production' ? 'sk_live_' : 'sk_test_')

export interface EnvironmentInfo {
  id: string
  name: string
  type: EnvType
  hosts: string[]
  frontend_api: string
  publishable_key: string
  created_at: number
}

export function environmentInfo(ctx: EnvContext): EnvironmentInfo {
  const row = environmentRow(ctx)
  const hostList = listHosts(ctx)
  const primary = hostList[0] ?? ''
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    hosts: hostList,
    frontend_api: primary,
    publishable_key: publishableKey(row.type, primary),
    created_at: row.createdAt,
  }
}

export const listHosts = (ctx: EnvContext) =>
  ctx.db
    .select({ host: hosts.host })
    .from(hosts)
    .orderBy(asc(hosts.createdAt), asc(hosts.host))
    .all()
    .map((h) => h.host)

export interface SecretKeyInfo {
  id: string
  hint: string
  created_at: number
  revoked_at: number | null
}

const toInfo = (r: typeof secretKeys.$inferSelect): SecretKeyInfo => ({
  id: r.id,
  hint: r.hint,
  created_at: r.createdAt,
  revoked_at: r.revokedAt,
})

/** Returns the plaintext key once; only its SHA-256 is kept. */
export function createSecretKey(ctx: EnvContext): SecretKeyInfo & { secret_key: string } {
  const secret = `${secretKeyPrefix(ctx.type)}${randomToken(32)}`
  const row = {
    id: newId('secretKey'),
    hash: sha256Hex(secret),
    hint: secret.slice(-4),
    createdAt: ctx.clock.now(),
    revokedAt: null,
  }
  removeEnvIndex(ctx.dir) // written again by indexEnvironment once the registry has the key
  ctx.db.insert(secretKeys).values(row).run()
  ctx.invalidate()
  return { ...toInfo(row), secret_key: secret }
}

export const listSecretKeys = (ctx: EnvContext): SecretKeyInfo[] =>
  ctx.db.select().from(secretKeys).orderBy(asc(secretKeys.createdAt), asc(secretKeys.id)).all().map(toInfo)

export function revokeSecretKey(ctx: EnvContext, id: string): SecretKeyInfo | null {
  const row = ctx.db.select().from(secretKeys).where(eq(secretKeys.id, id)).get()
  if (!row) return null
  if (row.revokedAt === null) {
    row.revokedAt = ctx.clock.now()
    removeEnvIndex(ctx.dir)
    ctx.db.update(secretKeys).set({ revokedAt: row.revokedAt }).where(eq(secretKeys.id, id)).run()
    ctx.invalidate()
  }
  return toInfo(row)
}

export const activeKeyHashes = (ctx: EnvContext) =>
  ctx.db
    .select({ hash: secretKeys.hash, revokedAt: secretKeys.revokedAt })
    .from(secretKeys)
    .all()
    .filter((k) => k.revokedAt === null)
    .map((k) => k.hash)

/**
 * The env file is the authority on its keys: the registry only said which env to ask.
 * The key's type must match the env's (sk_live_ for production, sk_test_ for development).
 */
export function verifySecretKey(ctx: EnvContext, secret: string, hash: string): boolean {
  if (!secret.startsWith(secretKeyPrefix(ctx.type))) return false
  // Every BAPI request lands here, so the active hashes are cached on the handle (revocation
  // from the CLI is seen within CROSS_PROCESS_STALENESS_MS).
  const active = ctx.cached('secretKeys.active', () => activeKeyHashes(ctx))
  let ok = false
  for (const candidate of active) ok = constantTimeEqual(candidate, hash) || ok
  return ok
}

/** True when the env's own file names the host (cached on the handle, like the keys). */
export const servesHost = (ctx: EnvContext, host: string) =>
  ctx.cached('hosts.set', () => new Set(listHosts(ctx))).has(host)

/** The env's one `environment` row (identity, type, settings, timestamps). */
export function environmentRow(ctx: EnvContext) {
  const row = ctx.db.select().from(environment).get()
  if (!row) throw new Error(`env ${ctx.id} has no environment row`)
  return row
}

/** Replaces the settings in the caller's transaction; cached reads see them at once. */
export function writeSettings(tx: EnvTx, ctx: EnvContext, settings: InstanceSettings) {
  tx.update(environment).set({ settings, updatedAt: ctx.clock.now() }).where(eq(environment.id, ctx.id)).run()
  ctx.invalidate()
}
