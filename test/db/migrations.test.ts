import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { loadMigrations, migrate, migrationsFolder } from '../../src/db/migrations'

describe('migrations', () => {
  for (const set of ['env', 'registry'] as const) {
    it(`${set}: journal timestamps strictly increase (drizzle skips older ones silently)`, () => {
      const journal = JSON.parse(readFileSync(`${migrationsFolder(set)}meta/_journal.json`, 'utf8')) as {
        entries: Array<{ when: number; idx: number }>
      }
      expect(journal.entries.length).toBeGreaterThan(0)
      journal.entries.forEach((e, i) => {
        expect(e.idx).toBe(i)
        if (i > 0) expect(e.when).toBeGreaterThan(journal.entries[i - 1]!.when)
      })
    })

    it(`${set}: applies once, re-applies nothing on reopen, leaves foreign keys on`, () => {
      const client = new Database(':memory:')
      const db = drizzle({ client })
      migrate(client, db, set)
      migrate(client, db, set)
      const n = client.query('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }
      expect(n.n).toBe(loadMigrations(set).length)
      expect(client.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
      client.close()
    })
  }

  it('refuses to open a database whose applied migrations do not match the journal', () => {
    const client = new Database(':memory:')
    const db = drizzle({ client })
    migrate(client, db, 'env')
    client.run("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('stray', 1)")
    expect(() => migrate(client, db, 'env')).toThrow(/journal/)
    client.close()
  })
})
