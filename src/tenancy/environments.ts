import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { createDataKey, createKeySet, type KeySource, type SigningAlgorithm } from '../crypto/keys'
import { randomToken } from '../crypto/secrets'
import type { Clock } from '../lib/clock'
import { newId } from '../lib/ids'
import type { EnvContext, EnvType } from './context'
import { activeKeyHashes, createSecretKey, type EnvironmentInfo, environmentInfo } from './env-store'
import { openEnvDatabase } from './open'
import { envDbFile, envDir, envKeysDir } from './paths'
import type { EnvPool } from './pool'
import { envFolders, isStale, type Registry } from './registry'
import { environment, hosts } from './schema'
import { defaultSettings } from './settings'

export interface TenancyDeps {
  dataDir: string
  registry: Registry
  pool: EnvPool
  clock: Clock
  /** Where new envs' signing keys come from; generated fresh when absent (serve and the CLI). */
  keys?: KeySource
}

export class EnvironmentError extends Error {
  override name = 'EnvironmentError'
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

export function normalizeHost(raw: string): string {
  const host = raw.trim().toLowerCase().replace(/\.$/, '')
  if (!HOSTNAME.test(host)) throw new EnvironmentError(`not a valid host name: ${raw}`)
  return host
}

const slugify = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'env'

export interface CreateEnvironmentInput {
  name: string
  type?: EnvType
  /** Frontend hosts; a development env defaults to `<slug>-<random>.localhost`. */
  hosts?: string[]
  algorithm?: SigningAlgorithm
}

export interface CreatedEnvironment extends EnvironmentInfo {
  secret_key: string
}

/**
 * Creates the env folder (database, data key, signing key and its standby, first secret key)
 * and indexes it. Signing keys are made here, never lazily on first use.
 */
export async function createEnvironment(
  deps: TenancyDeps,
  input: CreateEnvironmentInput,
): Promise<CreatedEnvironment> {
  const type = input.type ?? 'development'
  const name = input.name.trim()
  if (!name || name.length > 128) throw new EnvironmentError('the name must be 1 to 128 characters')
  const hostList = (input.hosts?.length ? input.hosts : []).map(normalizeHost)
  if (!hostList.length) {
    if (type === 'production') throw new EnvironmentError('a production environment needs --host')
    hostList.push(
      `${slugify(name)}-${randomToken(3)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}.localhost`,
    )
  }
  for (const host of hostList) {
    if (deps.registry.envForHost(host))
      throw new EnvironmentError(`the host ${host} is already used by an environment`)
  }
  const id = newId('environment')
  const dir = envDir(deps.dataDir, id)
  const now = deps.clock.now()
  const algorithm = input.algorithm ?? 'RS256'
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  try {
    createDataKey(envKeysDir(dir))
    await createKeySet(envKeysDir(dir), algorithm, now, deps.keys)
    const { client, db } = openEnvDatabase(envDbFile(dir))
    try {
      db.transaction((tx) => {
        tx.insert(environment)
          .values({
            id,
            name,
            type,
            settings: defaultSettings(name, algorithm),
            createdAt: now,
            updatedAt: now,
          })
          .run()
        for (const [i, host] of hostList.entries()) {
          tx.insert(hosts)
            .values({ host, createdAt: now + i })
            .run()
        }
      })
    } finally {
      client.close()
    }
    const { secret_key } = deps.pool.use(id, (ctx) => {
      const key = createSecretKey(ctx)
      indexEnvironment(deps.registry, ctx)
      return key
    })
    return { ...deps.pool.use(id, environmentInfo), secret_key }
  } catch (err) {
    deps.pool.evict(id)
    deps.registry.remove(id)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

/** Writes (or rewrites) the registry entries of one env from its own file. */
export function indexEnvironment(registry: Registry, ctx: EnvContext) {
  const info = environmentInfo(ctx)
  registry.index({
    id: info.id,
    name: info.name,
    type: info.type,
    hosts: info.hosts,
    keyHashes: activeKeyHashes(ctx),
  })
}

export function deleteEnvironment(deps: TenancyDeps, id: string): boolean {
  const dir = envDir(deps.dataDir, id)
  deps.pool.evict(id)
  deps.registry.remove(id)
  if (!existsSync(dir)) return false
  rmSync(dir, { recursive: true, force: true })
  return true
}

/** Rebuilds the registry from the env folders when it does not match them. */
export function syncRegistry(
  deps: TenancyDeps,
  opts: { force?: boolean } = {},
): { rebuilt: boolean; envs: number } {
  const folders = envFolders(deps.dataDir)
  if (!opts.force && !isStale(deps.registry, deps.dataDir)) return { rebuilt: false, envs: folders.length }
  for (const stale of deps.registry.list()) if (!folders.includes(stale.id)) deps.registry.remove(stale.id)
  for (const id of folders) deps.pool.use(id, (ctx) => indexEnvironment(deps.registry, ctx))
  return { rebuilt: true, envs: folders.length }
}
