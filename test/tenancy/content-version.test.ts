import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { contentTriggersInPlace } from '../../src/tenancy/content-version'
import { CROSS_PROCESS_STALENESS_MS } from '../../src/tenancy/data-version'
import { openEnvDatabase } from '../../src/tenancy/open'
import { envDbFile } from '../../src/tenancy/paths'
import { signedIn } from '../flows/support'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

const file = () => h.ctx((ctx) => envDbFile(ctx.dir))

/** Another process (a second worker, the CLI) writing straight to the env's file. */
function otherProcess(sql: string, ...params: Array<string | number | null>) {
  const db = new Database(file())
  try {
    db.query(sql).run(...params)
  } finally {
    db.close()
  }
}

/** A remembered probe value that counts how often it was loaded. */
function probe() {
  let loads = 0
  const look = () => {
    h.ctx((ctx) => ctx.remember('content-version-probe', 'k', () => ({ load: ++loads })))
    return loads
  }
  return look
}

describe('the content version', () => {
  it('counts every table: a new env has three triggers per table, and an env missing one gets them back on open', () => {
    const tables = h.ctx((ctx) =>
      ctx.client
        .query<{ name: string }, []>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB 'sqlite_*' AND name NOT IN ('content_version', '__drizzle_migrations')",
        )
        .all()
        .map((t) => t.name),
    )
    expect(tables).toContain('sessions')
    expect(tables).toContain('users')
    const triggers = h.ctx((ctx) =>
      ctx.client
        .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .all()
        .map((t) => t.name),
    )
    for (const t of tables)
      for (const op of ['insert', 'update', 'delete'])
        expect(triggers).toContain(`content_version_${t}_${op}`)

    otherProcess('DROP TRIGGER content_version_users_update')
    const reopened = openEnvDatabase(file())
    try {
      expect(contentTriggersInPlace(reopened.client)).toBe(true)
    } finally {
      reopened.client.close()
    }
  })

  it("lets another process's activity stamps by: what this process remembers of the env stays", async () => {
    const { sid } = await signedIn(h)
    const look = probe()
    const later = h.clock.now() + 10_000
    const stamp = (at: number) =>
      otherProcess(
        'UPDATE sessions SET last_active_at = ?, abandon_at = ? WHERE id = ?',
        at,
        at + 3_600_000,
        sid,
      )
    // This process's own writes (the sign-in) moved the version too, and it cannot tell them
    // from another's: the first commit it sees from elsewhere after them counts as content.
    stamp(later)
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(look()).toBe(1)

    // Another worker refreshes the session: only its activity stamp moves.
    stamp(later + 5_000)
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(look()).toBe(1)

    // Anything else it writes to the session (here, its end) makes the env's values stale.
    otherProcess("UPDATE sessions SET status = 'revoked', ended_at = ? WHERE id = ?", later, sid)
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(look()).toBe(2)

    // So does an insert or a delete anywhere in the env.
    otherProcess("INSERT INTO hosts (host, created_at) VALUES ('other.example.com', 0)")
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(look()).toBe(3)
    otherProcess("DELETE FROM hosts WHERE host = 'other.example.com'")
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect(look()).toBe(4)
  })

  it('a session revoked by another worker is refused here within the staleness bound, after its stamps were not', async () => {
    const { b, sid } = await signedIn(h)
    const refresh = () => b.call('POST', `/v1/client/sessions/${sid}/tokens`)
    expect((await refresh()).status).toBe(200)

    const later = h.clock.now() + 10_000
    otherProcess(
      'UPDATE sessions SET last_active_at = ?, abandon_at = ? WHERE id = ?',
      later,
      later + 3_600_000,
      sid,
    )
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect((await refresh()).status).toBe(200)

    otherProcess("UPDATE sessions SET status = 'revoked', ended_at = ? WHERE id = ?", later, sid)
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect((await refresh()).status).toBe(401)
  })
})
