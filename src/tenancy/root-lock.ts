import { Database } from 'bun:sqlite'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * One data root, one server. `serve` holds an exclusive SQLite lock on `<root>/serve.lock` for
 * as long as it runs: the operating system drops it when the process ends, however it ends, so
 * a lock is never stale. A second `serve` on the root is refused; the CLI takes no lock and
 * works beside a running server (SQLite serializes the writes). Workers of one server join its
 * lock with the group token the holder wrote to `serve.json`, which also names the holder for
 * the refusal message.
 */
export const lockFile = (dataDir: string) => join(dataDir, 'serve.lock')
export const holderFile = (dataDir: string) => join(dataDir, 'serve.json')

export interface LockHolder {
  pid: number
  started_at: number
  /** Shared with the workers the holder starts (AUTHN_SERVE_GROUP); never printed. */
  group: string
}

export interface RootLock {
  readonly holder: LockHolder
  release(): void
}

export class RootLockedError extends Error {
  override name = 'RootLockedError'
}

function readHolder(dataDir: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(holderFile(dataDir), 'utf8')) as LockHolder
  } catch {
    return null
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function whoHolds(dataDir: string): string {
  const h = readHolder(dataDir)
  if (!h || !alive(h.pid)) return 'another authn server'
  return `another authn server (pid ${h.pid}, since ${new Date(h.started_at).toISOString()})`
}

/**
 * Connections holding a lock. A bun:sqlite Database that nothing references is closed when it
 * is collected, and the lock with it: kept here until released.
 */
const holding = new Set<Database>()

/** Takes the exclusive lock, or null when another process holds it. */
function tryLock(dataDir: string): Database | null {
  const db = new Database(lockFile(dataDir), { create: true })
  try {
    db.exec('PRAGMA busy_timeout = 0')
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    // The first write takes the EXCLUSIVE lock; in this locking mode it is kept until close.
    db.exec('BEGIN EXCLUSIVE')
    db.exec('CREATE TABLE IF NOT EXISTS lock (n INTEGER)')
    db.exec('DELETE FROM lock')
    db.exec('COMMIT')
    return db
  } catch (err) {
    db.close()
    if (/locked|busy/i.test((err as Error).message)) return null
    throw err
  }
}

/** Locks the data root for this server, or throws RootLockedError naming the holder. */
export function lockRoot(dataDir: string, now: number): RootLock {
  const db = tryLock(dataDir)
  if (!db) {
    throw new RootLockedError(
      `${whoHolds(dataDir)} is already serving the data root ${dataDir}; one data root is served by one server (the CLI works beside it)`,
    )
  }
  const holder: LockHolder = {
    pid: process.pid,
    started_at: now,
    group: randomBytes(18).toString('base64url'),
  }
  const tmp = `${holderFile(dataDir)}.${process.pid}`
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 })
  renameSync(tmp, holderFile(dataDir))
  holding.add(db)
  return {
    holder,
    release() {
      if (!holding.delete(db)) return
      db.close()
    },
  }
}

/**
 * For a worker of the server holding the lock: succeeds only while that server runs and the
 * token is its group's, so a stray process cannot share the root (or its port) by accident.
 */
export function joinRoot(dataDir: string, group: string): LockHolder {
  const probe = existsSync(lockFile(dataDir)) ? tryLock(dataDir) : null
  if (probe !== null || !existsSync(lockFile(dataDir))) {
    probe?.close()
    throw new RootLockedError(`no authn server is serving ${dataDir}: a worker cannot start without it`)
  }
  const holder = readHolder(dataDir)
  if (!holder || holder.group !== group) {
    throw new RootLockedError(`AUTHN_SERVE_GROUP does not match the server serving ${dataDir}`)
  }
  return holder
}
