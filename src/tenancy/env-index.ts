import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isId } from '../lib/ids'
import { envDbFile } from './paths'
import type { EnvIndex } from './registry'

/**
 * `<env folder>/index.json`: the env's registry facts (id, name, type, hosts, active secret-key
 * hashes), written atomically whenever they change, so rebuilding the registry of a data root
 * reads one small file per env instead of opening every database.
 *
 * What it is trusted for: only as a hint of where to look. The env's database stays the
 * authority: a request routed by host is served only when the env's own database names that
 * host, and a secret key only when the env's database holds its hash (src/server.ts). A host or
 * key hash claimed by two folders (or by a folder and an env already indexed) is settled by
 * opening the databases (syncRegistry).
 *
 * When it is used: it names the database file it was written from (device and inode), so a
 * database replaced under it (a restore, a copy, a folder from a version that wrote no index)
 * makes it stale, and the rebuild opens the database instead. Fact changes remove the file before
 * writing the database (removeEnvIndex) and write it again after the commit, so a crash in
 * between leaves no index rather than an old one.
 */
const FILE = 'index.json'
const VERSION = 1
const HASH = /^[0-9a-f]{64}$/
const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

export const envIndexFile = (dir: string) => join(dir, FILE)

function dbIdentity(dir: string): string | null {
  try {
    const st = statSync(envDbFile(dir))
    return `${st.dev}:${st.ino}`
  } catch {
    return null
  }
}

/** Writes the index next to the database (temp file + rename: readers see all of it or none). */
export function writeEnvIndex(dir: string, env: EnvIndex) {
  const db = dbIdentity(dir)
  if (!db) return
  const body = {
    version: VERSION,
    db,
    id: env.id,
    name: env.name,
    type: env.type,
    hosts: env.hosts,
    key_hashes: env.keyHashes,
  }
  const tmp = join(dir, `.${FILE}.${process.pid}.tmp`)
  writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 })
  renameSync(tmp, envIndexFile(dir))
}

/** Called before the env's registry facts change in its database. */
export function removeEnvIndex(dir: string) {
  rmSync(envIndexFile(dir), { force: true })
}

const strings = (v: unknown, ok: (s: string) => boolean): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && ok(s))

/**
 * The env's facts from its index file, or null when the file is missing, unreadable, of another
 * version or shape, names another env, or was written from another database file.
 */
export function readEnvIndex(dir: string, envId: string): EnvIndex | null {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(envIndexFile(dir), 'utf8'))
  } catch {
    return null
  }
  if (!raw || typeof raw !== 'object') return null
  const r = raw as Record<string, unknown>
  if (r.version !== VERSION || r.id !== envId || !isId('environment', envId)) return null
  if (typeof r.name !== 'string' || !r.name || (r.type !== 'development' && r.type !== 'production'))
    return null
  if (!strings(r.hosts, (h) => HOST.test(h))) return null
  if (!strings(r.key_hashes, (h) => HASH.test(h))) return null
  if (typeof r.db !== 'string' || r.db !== dbIdentity(dir)) return null
  return { id: envId, name: r.name, type: r.type, hosts: r.hosts, keyHashes: r.key_hashes }
}
