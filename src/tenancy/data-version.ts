import type { Database } from 'bun:sqlite'
import type { Clock } from '../lib/clock'

/** How stale an in-process cache may get after another process (the CLI) writes. */
export const CROSS_PROCESS_STALENESS_MS = 250

/**
 * Tells whether another connection has committed to this database since the last look.
 * `PRAGMA data_version` is cheap but not free on a hot path, so it is asked at most once per
 * CROSS_PROCESS_STALENESS_MS of `clock` time; writes through our own connection must invalidate
 * explicitly.
 */
export function dataVersionWatcher(client: Database, clock: Clock) {
  const stmt = client.query<{ data_version: number }, []>('PRAGMA data_version')
  let version = stmt.get()?.data_version ?? 0
  let checkedAt = clock.now()
  return {
    /** True when the database changed under us since the previous call that returned true. */
    changed(): boolean {
      const t = clock.now()
      // A wall clock can step back: look at once rather than wait for it to catch up.
      if (t >= checkedAt && t - checkedAt < CROSS_PROCESS_STALENESS_MS) return false
      checkedAt = t
      const v = stmt.get()?.data_version ?? 0
      if (v === version) return false
      version = v
      return true
    },
  }
}
