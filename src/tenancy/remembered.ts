import type { Database } from 'bun:sqlite'

/**
 * How many remembered values the whole process keeps, across every env handle: a few tens of
 * MB at most. Past it the oldest go first.
 */
export const REMEMBERED_MAX = 32_768

interface Entry {
  owner: object
  generation: number
  value: unknown
}
const entries = new Map<string, Entry>()

export interface Remembered {
  get<T>(space: string, key: string, load: () => T | null, fits?: (value: T) => boolean): T | null
  writeOne<T>(space: string, key: string, write: () => T): T
}

/**
 * Values derived from one env handle's rows, valid while nothing has written to the env since
 * they were read. Writes through this connection are seen exactly, by SQLite's total_changes()
 * (a statement that opens no transaction: about a microsecond); another process's commits
 * move `crossProcessEpoch` (the handle's data_version watcher, which looks at most every
 * CROSS_PROCESS_STALENESS_MS). A write makes every value of the env stale at once, except one
 * made through writeOne, which names the only value it changes.
 */
export function rememberedValues(
  envId: string,
  client: Database,
  /** The handle's total_changes(). */
  changes: () => number,
  crossProcessEpoch: () => number,
): Remembered {
  const owner = {}
  let seenChanges = changes()
  let seenEpoch = crossProcessEpoch()
  let generation = 0
  const keyOf = (space: string, key: string) => `${envId}\u0000${space}\u0000${key}`

  /** The generation the env's rows are at now. */
  function current(): number {
    const n = changes()
    const epoch = crossProcessEpoch()
    if (n !== seenChanges || epoch !== seenEpoch) {
      seenChanges = n
      seenEpoch = epoch
      generation++
    }
    return generation
  }

  return {
    get<T>(space: string, key: string, load: () => T | null, fits?: (value: T) => boolean): T | null {
      // Inside a transaction a read may see this connection's uncommitted writes, which a
      // rollback takes back without moving total_changes(): nothing read there is kept.
      if (client.inTransaction) return load()
      const g = current()
      const k = keyOf(space, key)
      const known = entries.get(k)
      if (known && known.owner === owner && known.generation === g && (!fits || fits(known.value as T)))
        return known.value as T
      const value = load()
      if (value === null) return null
      if (entries.size >= REMEMBERED_MAX && !entries.has(k)) {
        entries.delete(entries.keys().next().value as string)
      }
      entries.set(k, { owner, generation: g, value: Object.freeze(value) })
      return value
    },

    writeOne<T>(space: string, key: string, write: () => T): T {
      // Inside a transaction the write may yet be rolled back: then the next look starts over.
      const outside = !client.inTransaction
      if (outside) current()
      const result = write()
      entries.delete(keyOf(space, key))
      // Only this write happened since current(): the env's other values still hold. (A write
      // that threw leaves seenChanges behind, and the next look starts over.)
      if (outside) seenChanges = changes()
      return result
    },
  }
}
