import type { Database } from 'bun:sqlite'
import { closeSync, openSync, readSync } from 'node:fs'
import type { Clock } from '../lib/clock'

/** How stale an in-process cache may get after another process (the CLI) writes. */
export const CROSS_PROCESS_STALENESS_MS = 250

/** The WAL-index header's first copy (https://sqlite.org/walformat.html#the_wal_index_header). */
const WAL_INDEX_HEADER_BYTES = 48

/**
 * Tells whether another connection has committed to this database since the last look.
 * `PRAGMA data_version` is cheap but not free on a hot path (a read transaction: about 11 µs on
 * a handle whose pages are cold), so it is asked at most once per CROSS_PROCESS_STALENESS_MS of
 * `clock` time, and not at all while the WAL-index header in `shmFile` (every commit by any
 * connection rewrites it) is the same as at the last look: one pread of 48 bytes, about 3 µs.
 * Writes through our own connection must invalidate explicitly.
 */
export function dataVersionWatcher(client: Database, clock: Clock, shmFile?: string) {
  const stmt = client.query<{ data_version: number }, []>('PRAGMA data_version')
  const header = shmHeader(shmFile)
  // The header is read before the version: a commit between the two changes the header seen next.
  let lastHeader = header?.read() ?? null
  let version = stmt.get()?.data_version ?? 0
  let checkedAt = clock.now()
  return {
    /** True when the database changed under us since the previous call that returned true. */
    changed(): boolean {
      const t = clock.now()
      // A wall clock can step back: look at once rather than wait for it to catch up.
      if (t >= checkedAt && t - checkedAt < CROSS_PROCESS_STALENESS_MS) return false
      checkedAt = t
      if (header) {
        const now = header.read()
        if (now && lastHeader && now.equals(lastHeader)) return false
        lastHeader = now
      }
      const v = stmt.get()?.data_version ?? 0
      if (v === version) return false
      version = v
      return true
    },
    close() {
      header?.close()
    },
  }
}

/** Reads the WAL-index header of an open WAL database; null without one (then the PRAGMA decides). */
function shmHeader(file: string | undefined) {
  if (!file) return null
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return null
  }
  return {
    read(): Buffer | null {
      const buf = Buffer.allocUnsafe(WAL_INDEX_HEADER_BYTES)
      try {
        return readSync(fd, buf, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES ? buf : null
      } catch {
        return null
      }
    },
    close() {
      closeSync(fd)
    },
  }
}
