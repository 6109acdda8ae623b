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
})
