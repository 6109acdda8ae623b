import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { silentLogger } from '../../src/log'
import { backupEnv } from '../../src/ops/backup'
import { createRuntime } from '../../src/runtime'
import { syncRegistry } from '../../src/tenancy/environments'
import { cli, freePort, type Running } from '../e2e/helpers'
import { seedEnvs, serve, startWriter, tempDirs } from './support'

const dirs = tempDirs()
const running: Running[] = []
afterAll(async () => {
  for (const r of running) if (r.proc.exitCode === null) await r.stop()
  dirs.clean()
})

/** Opens a backed-up env database as anyone would: integrity_check and the user ids it holds. */
function inspect(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    const check = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').all()
    const ids = db
      .query<{ id: string }, []>('SELECT id FROM users ORDER BY id')
      .all()
      .map((r) => r.id)
    return { check: check.map((c) => c.integrity_check), ids }
  } finally {
    db.close()
  }
}

describe('authn backup', () => {
  it('copies that are whole while a writer runs: every copy opens, passes integrity_check, holds what was acknowledged before it', async () => {
    const data = dirs.make()
    const out = dirs.make('authn-backup-')
    const [env, other] = await seedEnvs(data, ['backup-a.example.test', 'backup-b.example.test'])
    const server = await serve(data, await freePort(), running)
    const writer = startWriter(server.base, env!, { lanes: 3 })
    while (writer.acked.length < 20) await Bun.sleep(10)

    // Snapshots taken in this process while the server process writes (real concurrency: two
    // processes on one WAL database), as `authn backup` does beside a running server.
    const copies: Array<{ dir: string; ackedBefore: string[] }> = []
    for (let i = 0; i < 8; i++) {
      const ackedBefore = [...writer.acked]
      const result = backupEnv(data, env!.id, join(out, `run${i}`))
      expect(result.path).toBe(join(out, `run${i}`, env!.id))
      copies.push({ dir: result.path, ackedBefore })
      await Bun.sleep(25)
    }
    await writer.stop()
    expect(writer.errors).toEqual([])
    const final = await cli(['backup', '--all', '--out', join(out, 'all'), '--data', data, '--json'])
    expect(final.stderr).toBe('')
    expect(final.code).toBe(0)
    expect(
      JSON.parse(final.stdout)
        .backed_up.map((b: { env_id: string }) => b.env_id)
        .sort(),
    ).toEqual([env!.id, other!.id].sort())
    copies.push({ dir: join(out, 'all', env!.id), ackedBefore: [...writer.acked] })

    let previous = 0
    for (const copy of copies) {
      // An env folder: the database (no WAL needed beside it) and the keys, nothing half-written.
      expect(readdirSync(copy.dir).sort()).toEqual(['env.sqlite', 'keys'])
      expect(existsSync(join(copy.dir, 'keys', 'data.key'))).toBe(true)
      expect(statSync(join(copy.dir, 'keys', 'data.key')).mode & 0o777).toBe(0o600)
      const { check, ids } = inspect(join(copy.dir, 'env.sqlite'))
      expect(check).toEqual(['ok'])
      const held = new Set(ids)
      expect(copy.ackedBefore.filter((id) => !held.has(id))).toEqual([])
      expect(ids.length).toBeGreaterThanOrEqual(previous)
      previous = ids.length
    }
    // The last copy has every acknowledged write, and nothing that was not.
    expect(inspect(join(out, 'all', env!.id, 'env.sqlite')).ids).toEqual([...writer.acked].sort())
    // No partial folder left behind.
    expect(readdirSync(join(out, 'all')).filter((n) => n.startsWith('.'))).toEqual([])

    // Restorable by copying the folder into any data directory: a fresh root serves it.
    const restored = dirs.make()
    cpSync(join(out, 'run3', env!.id), join(restored, env!.id), { recursive: true })
    const rt = createRuntime(loadConfig({}, { dataDir: restored, logLevel: 'silent' }), { log: silentLogger })
    try {
      expect(syncRegistry(rt.tenancy).problems).toEqual([])
      const res = await rt.server.handle(
        new Request('https://api.authn.test/v1/users/count', {
          headers: { authorization: `Bearer ${env!.secretKey}` },
        }),
      )
      expect(res.status).toBe(200)
      expect(((await res.json()) as { total_count: number }).total_count).toBe(
        inspect(join(out, 'run3', env!.id, 'env.sqlite')).ids.length,
      )
    } finally {
      rt.close()
    }
  }, 120_000)

  it('refuses bad input with a clear message and no partial copy', async () => {
    const data = dirs.make()
    const out = dirs.make('authn-backup-')
    const [env] = await seedEnvs(data, ['backup-c.example.test'])
    const none = await cli(['backup', '--out', out, '--data', data])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('either --env ENV_ID or --all')
    const missing = await cli([
      'backup',
      '--env',
      'env_01JAAAAAAAAAAAAAAAAAAAAAAA',
      '--out',
      out,
      '--data',
      data,
    ])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no environment env_01JAAAAAAAAAAAAAAAAAAAAAAA')
    expect((await cli(['backup', '--env', env!.id, '--out', out, '--data', data])).code).toBe(0)
    const again = await cli(['backup', '--env', env!.id, '--out', out, '--data', data])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already exists')
    expect(readdirSync(out)).toEqual([env!.id])
  }, 60_000)
})
