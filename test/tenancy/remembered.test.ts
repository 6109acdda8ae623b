import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REMEMBERED_MAX, rememberedValues } from '../../src/tenancy/remembered'

const dir = mkdtempSync(join(tmpdir(), 'authn-remembered-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
function setup() {
  const db = new Database(join(dir, `env-${++files}.sqlite`), { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  db.run('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)')
  db.run("INSERT INTO t VALUES ('a', 1), ('b', 1)")
  let epoch = 0
  const totalChanges = db.query<{ n: number }, []>('SELECT total_changes() AS n')
  const values = rememberedValues(
    `env_${files}`,
    db,
    () => totalChanges.get()!.n,
    () => epoch,
  )
  const read = db.query<{ n: number }, [string]>('SELECT n FROM t WHERE id = ?')
  let loads = 0
  const n = (id: string) =>
    values.get('t', id, () => {
      loads++
      const row = read.get(id)
      return row ? { n: row.n } : null
    })?.n ?? null
  return { db, values, n, loads: () => loads, otherProcessCommitted: () => epoch++ }
}

describe('remembered values', () => {
  it('are loaded once and kept, frozen, until anything writes through the handle', () => {
    const { db, values, n, loads } = setup()
    expect([n('a'), n('a'), n('b')]).toEqual([1, 1, 1])
    expect(loads()).toBe(2)
    expect(Object.isFrozen(values.get('t', 'a', () => null))).toBe(true)
    // A write to an unrelated row still makes every value of the env stale: nothing tells which.
    db.run("INSERT INTO t VALUES ('c', 1)")
    db.run("UPDATE t SET n = 2 WHERE id = 'a'")
    expect([n('a'), n('b')]).toEqual([2, 1])
    expect(loads()).toBe(4)
  })

  it("follow another process's commits as the epoch the handle's watcher moves", () => {
    const { db, n, loads, otherProcessCommitted } = setup()
    expect(n('a')).toBe(1)
    // Another connection writes; until its watcher looks, the handle cannot know.
    const theirs = new Database(db.filename)
    theirs.run("UPDATE t SET n = 5 WHERE id = 'a'")
    theirs.close()
    expect(n('a')).toBe(1)
    otherProcessCommitted()
    expect(n('a')).toBe(5)
    expect(loads()).toBe(2)
  })

  it('survive a writeOne, except the one value it names', () => {
    const { db, values, n, loads } = setup()
    expect([n('a'), n('b')]).toEqual([1, 1])
    values.writeOne('t', 'a', () => db.run("UPDATE t SET n = 3 WHERE id = 'a'"))
    expect([n('a'), n('b')]).toEqual([3, 1])
    expect(loads()).toBe(3)
    // A writeOne that throws may have written anything: the env starts over.
    expect(() =>
      values.writeOne('t', 'a', () => {
        db.run("UPDATE t SET n = 4 WHERE id = 'b'")
        throw new Error('after a write')
      }),
    ).toThrow('after a write')
    expect([n('a'), n('b')]).toEqual([3, 4])
  })

  it('are not kept from inside a transaction, which a rollback may take back', () => {
    const { db, n, loads } = setup()
    expect(() =>
      db.transaction(() => {
        db.run("UPDATE t SET n = 9 WHERE id = 'a'")
        expect(n('a')).toBe(9)
        throw new Error('roll back')
      })(),
    ).toThrow('roll back')
    expect(n('a')).toBe(1)
    expect(loads()).toBe(2)
  })

  it('do not keep nulls, and reload a value that does not fit the caller', () => {
    const { values, loads, n } = setup()
    expect(n('zz')).toBeNull()
    expect(n('zz')).toBeNull()
    expect(loads()).toBe(2)
    const first = values.get(
      'k',
      'x',
      () => ({ who: 'one' }),
      (v) => v.who === 'one',
    )
    const second = values.get(
      'k',
      'x',
      () => ({ who: 'two' }),
      (v) => v.who === 'two',
    )
    expect([first?.who, second?.who]).toEqual(['one', 'two'])
    expect(values.get('k', 'x', () => ({ who: 'three' }))?.who).toBe('two')
  })

  it('are bounded across handles: past the bound the oldest are loaded again', () => {
    const one = setup()
    const two = setup()
    expect(one.n('a')).toBe(1)
    for (let i = 0; i < REMEMBERED_MAX; i++) two.values.get('filler', String(i), () => ({ i }))
    expect(one.n('a')).toBe(1)
    expect(one.loads()).toBe(2)
  })
})
