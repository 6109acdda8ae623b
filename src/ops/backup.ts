import { Database } from 'bun:sqlite'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { join } from 'node:path'
import { envDbFile, envDir, envKeysDir } from '../tenancy/paths'
import { envFolders } from '../tenancy/registry'

export class BackupError extends Error {
  override name = 'BackupError'
}

export interface BackupResult {
  env_id: string
  /** The finished copy: an env folder, ready to be dropped into a data root. */
  path: string
  bytes: number
  key_files: number
  ms: number
}

/**
 * Copies a folder of key files (data key, signing keys). Key files are written whole and
 * renamed into place, so each copy is a complete file; a key pruned between listing and
 * copying is skipped (it was being retired).
 */
function copyKeys(from: string, to: string): number {
  mkdirSync(to, { recursive: true, mode: 0o700 })
  chmodSync(to, 0o700)
  let n = 0
  for (const name of readdirSync(from)) {
    if (name.startsWith('.')) continue
    try {
      copyFileSync(join(from, name), join(to, name))
      chmodSync(join(to, name), 0o600)
      n++
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  if (!existsSync(join(to, 'data.key')))
    throw new BackupError(`${from} has no data.key: not a restorable env`)
  return n
}

/** integrity_check of a finished copy, and that it holds the env it claims to. */
function verifyCopy(file: string, envId: string) {
  const db = new Database(file, { readonly: true })
  try {
    const check = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').all()
    if (check.length !== 1 || check[0]?.integrity_check !== 'ok')
      throw new BackupError(
        `the copy of ${envId} failed integrity_check: ${JSON.stringify(check.slice(0, 3))}`,
      )
    const row = db.query<{ id: string }, []>('SELECT id FROM environment LIMIT 1').get()
    if (row?.id !== envId) throw new BackupError(`the copy of ${envId} holds ${row?.id ?? 'no environment'}`)
  } finally {
    db.close()
  }
}

/**
 * A consistent copy of one env folder while the server may be writing to it: `VACUUM INTO`
 * reads the database inside one read transaction (a snapshot; writers in WAL mode are not
 * blocked) and writes a compact file with no WAL beside it; then the key files are copied.
 * The copy is built under a hidden name and renamed into `outDir/<env_id>` once verified, so a
 * folder of that name is always a whole backup.
 */
export function backupEnv(dataDir: string, envId: string, outDir: string): BackupResult {
  const started = performance.now()
  const source = envDir(dataDir, envId)
  if (!existsSync(envDbFile(source))) throw new BackupError(`no environment ${envId} in ${dataDir}`)
  const target = join(outDir, envId)
  if (existsSync(target)) throw new BackupError(`${target} already exists: back up into an empty place`)
  mkdirSync(outDir, { recursive: true, mode: 0o700 })
  const partial = join(outDir, `.${envId}.partial-${process.pid}`)
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { mode: 0o700 })
  try {
    // Read-write without create: a read-only handle cannot rebuild a WAL index that is missing.
    const db = new Database(envDbFile(source), { readwrite: true, create: false })
    try {
      db.exec('PRAGMA busy_timeout = 10000')
      db.run('VACUUM INTO ?', [envDbFile(partial)])
    } finally {
      db.close()
    }
    chmodSync(envDbFile(partial), 0o600)
    const keyFiles = copyKeys(envKeysDir(source), envKeysDir(partial))
    verifyCopy(envDbFile(partial), envId)
    renameSync(partial, target)
    return {
      env_id: envId,
      path: target,
      bytes: statSync(envDbFile(target)).size,
      key_files: keyFiles,
      ms: Math.round((performance.now() - started) * 10) / 10,
    }
  } catch (err) {
    rmSync(partial, { recursive: true, force: true })
    throw err
  }
}

/** Every env folder of the data root, one after the other (each its own snapshot). */
export function backupAll(
  dataDir: string,
  outDir: string,
): { done: BackupResult[]; failed: Array<{ env_id: string; error: string }> } {
  const done: BackupResult[] = []
  const failed: Array<{ env_id: string; error: string }> = []
  for (const id of envFolders(dataDir)) {
    try {
      done.push(backupEnv(dataDir, id, outDir))
    } catch (err) {
      failed.push({ env_id: id, error: (err as Error).message })
    }
  }
  return { done, failed }
}
