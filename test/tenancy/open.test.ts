import { describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openEnvDatabase } from '../../src/tenancy/open'

const openFiles = () => readdirSync('/proc/self/fd').length

describe('closing an env file', () => {
  it.skipIf(!existsSync('/proc/self/fd'))('releases its file, WAL and shared memory at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'authn-open-'))
    try {
      const before = openFiles()
      for (let i = 0; i < 20; i++) {
        const { client, db } = openEnvDatabase(join(dir, `env${i}.sqlite`))
        db.all(sql`select count(*) from users`)
        db.transaction((tx) => tx.run(sql`update users set first_name = first_name where 0`))
        client.close()
      }
      // drizzle prepares a statement per query; unfinalized ones would keep 3 files per handle open.
      expect(openFiles() - before).toBeLessThan(3)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
