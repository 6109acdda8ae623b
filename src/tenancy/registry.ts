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

/**
 * host → env and secret-key hash → env, over every env folder of a data root. It is an index:
 * each env file holds the truth (and is checked again on use), and the index is rebuilt from
 * the folders when it is missing or does not list the folders present.
 */
export interface Registry {
  envForHost(host: string): string | null
  envForKeyHash(hash: string): string | null
  list(): RegistryEnv[]
  index(env: EnvIndex): void
  remove(envId: string): void
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

  return {
    envForHost: (host) => cached(`h:${host}`, () => byHost.get(host)?.env_id ?? null),
    envForKeyHash: (hash) => cached(`k:${hash}`, () => byKey.get(hash)?.env_id ?? null),
    list: () => client.query<RegistryEnv, []>('SELECT id, name, type FROM envs ORDER BY id').all(),
    index(env) {
      client.transaction(() => {
        client.run('DELETE FROM hosts WHERE env_id = ?', [env.id])
        client.run('DELETE FROM secret_keys WHERE env_id = ?', [env.id])
        client.run(
          'INSERT INTO envs (id, name, type, indexed_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, indexed_at = excluded.indexed_at',
          [env.id, env.name, env.type, clock.now()],
        )
        for (const host of env.hosts)
          client.run('INSERT OR REPLACE INTO hosts (host, env_id) VALUES (?, ?)', [host, env.id])
        for (const hash of env.keyHashes)
          client.run('INSERT OR REPLACE INTO secret_keys (hash, env_id) VALUES (?, ?)', [hash, env.id])
      })()
      forget()
    },
    remove(envId) {
      client.transaction(() => {
        client.run('DELETE FROM hosts WHERE env_id = ?', [envId])
        client.run('DELETE FROM secret_keys WHERE env_id = ?', [envId])
        client.run('DELETE FROM envs WHERE id = ?', [envId])
      })()
      forget()
    },
    close: () => client.close(),
  }
}

/** Env folders present in a data root (a folder counts once it holds its env.sqlite). */
export function envFolders(dataDir: string): string[] {
  if (!existsSync(dataDir)) return []
  return readdirSync(dataDir, { withFileTypes: true })
    .filter(
      (d) => d.isDirectory() && isId('environment', d.name) && existsSync(envDbFile(join(dataDir, d.name))),
    )
    .map((d) => d.name)
    .sort()
}

/** True when the index does not list exactly the env folders on disk. */
export function isStale(registry: Registry, dataDir: string): boolean {
  const indexed = registry.list().map((e) => e.id)
  const present = envFolders(dataDir)
  return indexed.length !== present.length || indexed.some((id, i) => id !== present[i])
}
