import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
} from 'node:fs'
import { join } from 'node:path'
import { createDataKey, createKeySet, type KeySource, type SigningAlgorithm } from '../crypto/keys'
import { randomToken } from '../crypto/secrets'
import type { Clock } from '../lib/clock'
import { newId } from '../lib/ids'
import type { EnvContext, EnvType } from './context'
import { readEnvIndex, writeEnvIndex } from './env-index'
import { activeKeyHashes, createSecretKey, type EnvironmentInfo, environmentInfo } from './env-store'
import { openEnvDatabase } from './open'
import { envDbFile, envDir, envKeysDir } from './paths'
import { type EnvPool, EnvUnavailableError } from './pool'
import { type EnvIndex, envFolders, type Registry, type RegistryProblem } from './registry'
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
  /**
   * A migrated, empty env database (`createEnvTemplate`) copied instead of creating and
   * migrating a new file: the bulk path (`env create --count`). Ids, keys and rows are the
   * env's own either way.
   */
  template?: string
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
    if (input.template) copyFileSync(input.template, envDbFile(dir))
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

/**
 * An empty env database with every migration applied, closed (so a single file, no WAL), for
 * `template` in createEnvironment: copying it costs a file copy instead of a migration run.
 */
export function createEnvTemplate(file: string) {
  rmSync(file, { force: true })
  const { client } = openEnvDatabase(file)
  client.close()
}

/**
 * Writes (or rewrites) the registry entries of one env from its own file, and the env folder's
 * index file (src/tenancy/env-index.ts) that a rebuild of the registry reads instead.
 */
export function indexEnvironment(registry: Registry, ctx: EnvContext) {
  const info = environmentInfo(ctx)
  const facts = {
    id: info.id,
    name: info.name,
    type: info.type,
    hosts: info.hosts,
    keyHashes: activeKeyHashes(ctx),
  }
  registry.index(facts)
  writeEnvIndex(ctx.dir, facts)
}

export function deleteEnvironment(deps: TenancyDeps, id: string): boolean {
  const dir = envDir(deps.dataDir, id)
  deps.pool.evict(id)
  deps.registry.remove(id)
  if (!existsSync(dir)) return false
  rmSync(dir, { recursive: true, force: true })
  return true
}

export interface SyncResult {
  /** True when the index changed (a folder was indexed, looked at again or dropped). */
  rebuilt: boolean
  /** Env folders present (served or not). */
  envs: number
  /** Folders that are not served, and why. */
  problems: RegistryProblem[]
}

/**
 * Brings the registry up to date with the env folders. The rule: a folder's name is its env's
 * id. Only folders the index does not know (or could not serve last time) are looked at, so a
 * start over thousands of indexed envs opens none; entries whose folder is gone are dropped. A
 * folder is read from its index file when that is current (src/tenancy/env-index.ts), else its
 * database is opened (and the index file written again). A host or secret-key hash claimed by
 * two folders, or by a folder and another env already indexed, is settled by the databases. A
 * folder that cannot be indexed (its database names another env, it cannot be opened) is
 * recorded as a problem: not served, shown by `env list`, looked at again on the next sync.
 * `force` re-reads every database (an env already indexed keeps its entries if that fails).
 */
export function syncRegistry(deps: TenancyDeps, opts: { force?: boolean } = {}): SyncResult {
  const folders = envFolders(deps.dataDir)
  const present = new Set(folders)
  const known = new Map(deps.registry.entries().map((e) => [e.id, e.problem]))
  let changed = false
  for (const id of known.keys()) {
    if (present.has(id)) continue
    deps.registry.remove(id)
    changed = true
  }
  const fromDatabase = (id: string, indexed: boolean) => {
    try {
      deps.pool.use(id, (ctx) => indexEnvironment(deps.registry, ctx), { transient: true })
    } catch (err) {
      if (!indexed)
        deps.registry.noteProblem(id, err instanceof EnvUnavailableError ? err.reason : String(err))
    }
  }
  const fromFiles = new Map<string, EnvIndex>()
  for (const id of folders) {
    const indexed = known.has(id) && known.get(id) === null
    if (indexed && !opts.force) continue
    changed = true
    const file = opts.force ? null : readEnvIndex(envDir(deps.dataDir, id), id)
    if (file) fromFiles.set(id, file)
    else fromDatabase(id, indexed)
  }
  // Index files are hints: a claim another folder or env also makes is checked in the databases.
  const claims = new Map<string, string[]>()
  for (const env of fromFiles.values()) {
    for (const claim of [...env.hosts.map((h) => `h:${h}`), ...env.keyHashes.map((k) => `k:${k}`)])
      claims.set(claim, [...(claims.get(claim) ?? []), env.id])
  }
  const doubtful = new Set<string>()
  for (const [claim, ids] of claims) {
    const value = claim.slice(2)
    const owner = claim.startsWith('h:')
      ? deps.registry.envForHost(value)
      : deps.registry.envForKeyHash(value)
    if (ids.length > 1 || (owner !== null && owner !== ids[0])) for (const id of ids) doubtful.add(id)
  }
  deps.registry.indexMany([...fromFiles.values()].filter((env) => !doubtful.has(env.id)))
  for (const id of doubtful) fromDatabase(id, known.get(id) === null)
  return { rebuilt: changed, envs: folders.length, problems: deps.registry.problems() }
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0')

/** What is visibly wrong with an env folder, without opening its database; null when nothing. */
export function folderProblem(dataDir: string, id: string): string | null {
  const dir = envDir(dataDir, id)
  const file = envDbFile(dir)
  if (!existsSync(file)) return `${file} is missing`
  const keys = envKeysDir(dir)
  if (!existsSync(keys)) return `${keys} is missing`
  if (!existsSync(join(keys, 'data.key'))) return `${join(keys, 'data.key')} is missing`
  const head = Buffer.alloc(SQLITE_HEADER.length)
  let fd: number | null = null
  try {
    fd = openSync(file, 'r')
    const n = readSync(fd, head, 0, head.length, 0)
    if (n < head.length || !head.equals(SQLITE_HEADER)) return `${file} is not a SQLite database`
  } catch (err) {
    return `${file} cannot be read: ${(err as Error).message}`
  } finally {
    if (fd !== null) closeSync(fd)
  }
  return null
}

/**
 * The start-up check of every served env: cheap (a few stats and 16 bytes each), so it sees a
 * missing key folder or a database that is not one, not a corrupt page deep inside a database
 * (that env turns unavailable when first opened, by a request or the scheduler). An env found
 * broken is handed to the pool, which logs it and answers 503 environment_unavailable for it
 * until its folder changes or a backoff passes.
 */
export function checkEnvironments(deps: TenancyDeps): Array<{ id: string; reason: string }> {
  const broken: Array<{ id: string; reason: string }> = []
  for (const { id } of deps.registry.list()) {
    const problem = folderProblem(deps.dataDir, id)
    if (problem === null) continue
    try {
      deps.pool.lease(id, { transient: true })?.release()
    } catch (err) {
      broken.push({ id, reason: err instanceof EnvUnavailableError ? err.reason : problem })
    }
    // The pool opened it after all (the folder was repaired in between): nothing to report.
  }
  return broken
}
