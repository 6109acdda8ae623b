import { Database } from 'bun:sqlite'
import { join } from 'node:path'

export const rateWindowsFile = (dataDir: string) => join(dataDir, 'rate-limits.sqlite')

export interface RateWindows {
  /** Counts one request under `key`; a window older than `windowMs` starts over at 1. */
  hit(key: string, now: number, windowMs: number): { start: number; count: number }
  close(): void
}

/** How often a process deletes windows nobody can still be counted in. */
const SWEEP_EVERY_MS = 60_000
/** No rule's window is longer than this. */
const LONGEST_WINDOW_MS = 60_000

/**
 * Rate-limit windows shared by every worker of the server on a data root: one row per
 * (env, bucket, client), counted by a single upsert, so two workers can never both let the
 * sixth request of a limit of five through. The file holds nothing worth keeping (counts of the
 * last minute): it is not part of a backup and is recreated when missing.
 */
export function openRateWindows(dataDir: string): RateWindows {
  const db = new Database(rateWindowsFile(dataDir), { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = OFF')
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec(
    'CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID',
  )
  const upsert = db.query<{ start: number; count: number }, { key: string; now: number; from: number }>(
    `INSERT INTO windows (key, start, count) VALUES ($key, $now, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN windows.start <= $from THEN 1 ELSE windows.count + 1 END,
       start = CASE WHEN windows.start <= $from THEN $now ELSE windows.start END
     RETURNING start, count`,
  )
  const sweep = db.query<unknown, { before: number }>('DELETE FROM windows WHERE start < $before')
  let sweptAt = 0
  return {
    hit(key, now, windowMs) {
      if (now - sweptAt > SWEEP_EVERY_MS) {
        sweep.run({ before: now - LONGEST_WINDOW_MS })
        sweptAt = now
      }
      const row = upsert.get({ key, now, from: now - windowMs })
      if (!row) throw new Error('rate window upsert returned no row')
      return row
    },
    close() {
      upsert.finalize()
      sweep.finalize()
      db.close()
    },
  }
}
