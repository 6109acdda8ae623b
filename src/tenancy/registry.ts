import type { Database } from 'bun:sqlite'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Clock, systemClock } from '../lib/clock'
import { isId } from '../lib/ids'
import { dataVersionWatcher } from './data-version'
import { openRegistryDatabase } from './open'
import { envDbFile, registryFile } from './paths'

export interface RegistryEnv {
  id: string
  name: string
  type: string
}

export interface EnvIndex extends RegistryEnv {
  hosts: string[]
  keyHashes: string[]
}

/** A folder of the data root that is not served, and why (see `noteProblem`). */
export interface RegistryProblem {
  id: string
  problem: string
}

/**
 * host → env and secret-key hash → env, over every env folder of a data root, plus when each
 * env next has background work due. It is an index: each env file holds the truth (and is
 * checked again on use), and the index is brought up to date from the folders at start-up
 * (only folders it does not know are opened).
 */
export interface Registry {
  envForHost(host: string): string | null
  envForKeyHash(hash: string): string | null
  /** Indexed (served) envs, by id. */
  list(): RegistryEnv[]
  /** Every folder the index knows, served or not: the sync compares it with the folders. */
  entries(): Array<{ id: string; problem: string | null }>
  /** Folders that are not served, with the reason. */
  problems(): RegistryProblem[]
  /** The env's hosts, in the order indexed (primary first). */
  hostsOf(envId: string): string[]
  /** Writes (or rewrites) one env's entries; its background work counts as due at once. */
  index(env: EnvIndex): void
  /** index() for many envs in one transaction (the rebuild from index files). */
  indexMany(envs: Iterable<EnvIndex>): void
  /** Records a folder that is not served (no hosts, no keys): `env list` shows the reason. */
  noteProblem(envId: string, problem: string): void
  remove(envId: string): void
  /** Served envs whose background work is due at `now`, earliest first. */
  dueEnvs(now: number): string[]
  /** The earliest time any served env has work due; null when none is indexed. */
  nextDueAt(): number | null
  /** Sets when the env next has work due (the scheduler, after running its jobs). */
  setDue(envId: string, at: number): void
  /** setDue for many envs in one transaction (one write instead of one per env). */
  setDueMany(dues: Iterable<[envId: string, at: number]>): void
  /** Brings each env's due time forward to `at` when that is earlier (a write made a new deadline). */
  lowerDueMany(dues: Iterable<[envId: string, at: number]>): void
  dueAt(envId: string): number | null
  close(): void
}

const NEGATIVE_TTL_MS = 5_000
const NEGATIVE_MAX = 10_000

/** `clock` times the caches (negative TTL, cross-process checks) and stamps index entries. */
export function openRegistry(dataDir: string, clock: Clock = systemClock): Registry {
  const { client } = openRegistryDatabase(registryFile(dataDir))
  return createRegistry(client, clock)
}

function createRegistry(client: Database, clock: Clock): Registry {
  const byHost = client.query<{ env_id: string }, [string]>('SELECT env_id FROM hosts WHERE host = ?')
  const byKey = client.query<{ env_id: string }, [string]>('SELECT env_id FROM secret_keys WHERE hash = ?')
  const due = client.query<{ id: string }, [number]>(
    'SELECT id FROM envs WHERE next_due_at <= ? AND problem IS NULL ORDER BY next_due_at, id',
  )
  const setDue = client.query<never, [number, string]>(
    'UPDATE envs SET next_due_at = ? WHERE id = ? AND problem IS NULL',
  )
  const lowerDue = client.query<never, [number, string, number]>(
    'UPDATE envs SET next_due_at = ? WHERE id = ? AND problem IS NULL AND (next_due_at IS NULL OR next_due_at > ?)',
  )
  // Positive and negative answers are cached; a commit by another process (the CLI) empties
  // both caches within CROSS_PROCESS_STALENESS_MS.
  const watcher = dataVersionWatcher(client, clock)
  const hits = new Map<string, string>()
  const misses = new Map<string, number>()

  function cached(key: string, load: () => string | null): string | null {
    if (watcher.changed()) {
      hits.clear()
      misses.clear()
    }
    const hit = hits.get(key)
    if (hit) return hit
    const now = clock.now()
    const miss = misses.get(key)
    if (miss !== undefined && miss > now) return null
    const found = load()
    if (found) hits.set(key, found)
    else {
      if (misses.size >= NEGATIVE_MAX) misses.clear()
      misses.set(key, now + NEGATIVE_TTL_MS)
    }
    return found
  }
  const forget = () => {
    hits.clear()
    misses.clear()
  }
  const drop = (envId: string) => {
    client.run('DELETE FROM hosts WHERE env_id = ?', [envId])
    client.run('DELETE FROM secret_keys WHERE env_id = ?', [envId])
  }
  const write = (env: EnvIndex) => {
    drop(env.id)
    client.run(
      `INSERT INTO envs (id, name, type, indexed_at, next_due_at, problem) VALUES (?, ?, ?, ?, 0, NULL)
       ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type,
         indexed_at = excluded.indexed_at, next_due_at = 0, problem = NULL`,
      [env.id, env.name, env.type, clock.now()],
    )
    for (const host of env.hosts)
      client.run('INSERT OR REPLACE INTO hosts (host, env_id) VALUES (?, ?)', [host, env.id])
    for (const hash of env.keyHashes)
      client.run('INSERT OR REPLACE INTO secret_keys (hash, env_id) VALUES (?, ?)', [hash, env.id])
  }

  return {
    envForHost: (host) => cached(`h:${host}`, () => byHost.get(host)?.env_id ?? null),
    envForKeyHash: (hash) => cached(`k:${hash}`, () => byKey.get(hash)?.env_id ?? null),
    list: () =>
      client
        .query<RegistryEnv, []>('SELECT id, name, type FROM envs WHERE problem IS NULL ORDER BY id')
        .all(),
    entries: () =>
      client
        .query<{ id: string; problem: string | null }, []>('SELECT id, problem FROM envs ORDER BY id')
        .all(),
    problems: () =>
      client
        .query<RegistryProblem, []>('SELECT id, problem FROM envs WHERE problem IS NOT NULL ORDER BY id')
        .all(),
    hostsOf: (envId) =>
      client
        .query<{ host: string }, [string]>('SELECT host FROM hosts WHERE env_id = ? ORDER BY rowid')
        .all(envId)
        .map((r) => r.host),
    index(env) {
      client.transaction(() => write(env))()
      forget()
    },
    indexMany(envs) {
      client.transaction(() => {
        for (const env of envs) write(env)
      })()
      forget()
    },
    noteProblem(envId, problem) {
      client.transaction(() => {
        drop(envId)
        client.run(
          `INSERT INTO envs (id, name, type, indexed_at, next_due_at, problem) VALUES (?, '', '', ?, NULL, ?)
           ON CONFLICT(id) DO UPDATE SET name = '', type = '', indexed_at = excluded.indexed_at,
             next_due_at = NULL, problem = excluded.problem`,
          [envId, clock.now(), problem],
        )
      })()
      forget()
    },
    remove(envId) {
      client.transaction(() => {
        drop(envId)
        client.run('DELETE FROM envs WHERE id = ?', [envId])
      })()
      forget()
    },
    dueEnvs: (now) => due.all(now).map((r) => r.id),
    nextDueAt: () =>
      client
        .query<{ at: number | null }, []>('SELECT min(next_due_at) AS at FROM envs WHERE problem IS NULL')
        .get()?.at ?? null,
    setDue(envId, at) {
      setDue.run(at, envId)
    },
    setDueMany(dues) {
      client.transaction(() => {
        for (const [envId, at] of dues) setDue.run(at, envId)
      })()
    },
    lowerDueMany(dues) {
      client.transaction(() => {
        for (const [envId, at] of dues) lowerDue.run(at, envId, at)
      })()
    },
    dueAt: (envId) =>
      client
        .query<{ at: number | null }, [string]>('SELECT next_due_at AS at FROM envs WHERE id = ?')
        .get(envId)?.at ?? null,
    close: () => client.close(),
  }
}

/**
 * Env folders present in a data root: a folder named like an env id that holds its env.sqlite.
 * The folder name is the env's id (`env list` reports a folder whose database says otherwise,
 * and it is not served).
 */
export function envFolders(dataDir: string): string[] {
  if (!existsSync(dataDir)) return []
  return readdirSync(dataDir, { withFileTypes: true })
    .filter(
      (d) => d.isDirectory() && isId('environment', d.name) && existsSync(envDbFile(join(dataDir, d.name))),
    )
    .map((d) => d.name)
    .sort()
}

/**
 * True when the index and the folders differ: a folder it does not know, an entry whose folder
 * is gone, or a folder it could not serve last time (looked at again).
 */
export function isStale(registry: Registry, dataDir: string): boolean {
  const known = new Map(registry.entries().map((e) => [e.id, e.problem]))
  const present = envFolders(dataDir)
  if (known.size !== present.length) return true
  return present.some((id) => !known.has(id) || known.get(id) !== null)
}
