import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixedClock } from '../../src/lib/clock'
import { CROSS_PROCESS_STALENESS_MS, dataVersionWatcher } from '../../src/tenancy/data-version'

const dir = mkdtempSync(join(tmpdir(), 'authn-data-version-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('dataVersionWatcher', () => {
  it("notices another connection's commits, looking at most once per staleness bound of its clock", () => {
    const file = join(dir, 'watched.sqlite')
    const ours = new Database(file, { create: true })
    const theirs = new Database(file)
    theirs.run('CREATE TABLE t (n INTEGER)')
    const clock = fixedClock()
    const watcher = dataVersionWatcher(ours, clock)
    expect(watcher.changed()).toBe(false)

    theirs.run('INSERT INTO t VALUES (1)')
    clock.advance(CROSS_PROCESS_STALENESS_MS - 1)
    expect(watcher.changed()).toBe(false) // not asked yet
    clock.advance(1)
    expect(watcher.changed()).toBe(true)
    clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(watcher.changed()).toBe(false) // asked again: nothing new

    // Our own commits are not reported (the writer invalidates its caches itself).
    ours.run('INSERT INTO t VALUES (2)')
    clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(watcher.changed()).toBe(false)

    // A wall clock stepping back does not postpone the next look.
    theirs.run('INSERT INTO t VALUES (3)')
    clock.advance(-60_000)
    expect(watcher.changed()).toBe(true)
    theirs.close()
    ours.close()
  })

  it("with the WAL-index header, asks SQLite only after some connection's commit", () => {
    const file = join(dir, 'header.sqlite')
    const ours = new Database(file, { create: true })
    ours.run('PRAGMA journal_mode = WAL')
    ours.run('CREATE TABLE t (n INTEGER)')
    const theirs = new Database(file)
    // Counts the PRAGMA data_version reads the watcher makes.
    let asked = 0
    const counting = Object.create(ours) as Database
    counting.query = ((sql: string) => {
      const stmt = ours.query(sql)
      return { get: () => (asked++, stmt.get()) }
    }) as never
    const clock = fixedClock()
    const watcher = dataVersionWatcher(counting, clock, `${file}-shm`)
    const look = () => {
      clock.advance(CROSS_PROCESS_STALENESS_MS)
      return watcher.changed()
    }
    asked = 0
    expect([look(), look(), look()]).toEqual([false, false, false])
    expect(asked).toBe(0) // nobody committed: the header said so

    theirs.run('INSERT INTO t VALUES (1)')
    expect(look()).toBe(true)
    expect(asked).toBe(1)
    expect(look()).toBe(false)
    expect(asked).toBe(1)

    // Our own commit moves the header too: SQLite is asked, and says it was not another's.
    ours.run('INSERT INTO t VALUES (2)')
    expect(look()).toBe(false)
    expect(asked).toBe(2)
    watcher.close()
    theirs.close()
    ours.close()
  })

  it('without a readable header file, asks SQLite at each look', () => {
    const file = join(dir, 'no-header.sqlite')
    const ours = new Database(file, { create: true })
    const theirs = new Database(file)
    theirs.run('CREATE TABLE t (n INTEGER)')
    const clock = fixedClock()
    const watcher = dataVersionWatcher(ours, clock, join(dir, 'missing-shm'))
    theirs.run('INSERT INTO t VALUES (1)')
    clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(watcher.changed()).toBe(true)
    watcher.close()
    theirs.close()
    ours.close()
  })
})
