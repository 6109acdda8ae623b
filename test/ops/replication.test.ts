import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { cli, freePort, type Running } from '../e2e/helpers'
import { seedEnvs, serveLogged, startWriter, tempDirs } from './support'

const dirs = tempDirs()
const running: Running[] = []
afterAll(async () => {
  for (const r of running) if (r.proc.exitCode === null) r.proc.kill('SIGKILL')
  dirs.clean()
})

const BACKUP_KEY = 'correct horse battery staple backup'

interface ReplicationCheck {
  ok: boolean
  state: string
  restarts: number
  pid?: number
  envs: Array<{ env_id: string; position: string | null; lag_seconds: number | null }>
}

async function replication(base: string): Promise<ReplicationCheck> {
  const res = await fetch(`${base}/readyz`)
  return ((await res.json()) as { checks: { replication: ReplicationCheck } }).checks.replication
}

/** Polls /readyz until `ok(check)`, or fails with the last check seen. */
async function until(base: string, what: string, ok: (c: ReplicationCheck) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms
  let last: ReplicationCheck | null = null
  while (Date.now() < deadline) {
    last = await replication(base)
    if (ok(last)) return last
    await Bun.sleep(200)
  }
  throw new Error(`${what}: not within ${ms} ms; last /readyz replication: ${JSON.stringify(last)}`)
}

function userIds(file: string): Set<string> {
  const db = new Database(file, { readonly: true })
  try {
    expect(db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check).toBe(
      'ok',
    )
    return new Set(
      db
        .query<{ id: string }, []>('SELECT id FROM users')
        .all()
        .map((r) => r.id),
    )
  } finally {
    db.close()
  }
}

describe('continuous replication with Litestream', () => {
  it('replicates under load; restore brings back every acknowledged write and the keys; --timestamp stops before a later write', async () => {
    const data = dirs.make()
    const replicas = dirs.make('authn-replicas-')
    const template = `file://${replicas}/{env_id}`
    const [env] = await seedEnvs(data, ['replica.example.test'])
    const dataKey = readFileSync(join(data, env!.id, 'keys', 'data.key'), 'utf8')
    const server = await serveLogged(data, await freePort(), running, {
      AUTHN_REPLICA_URL: template,
      AUTHN_BACKUP_KEY: BACKUP_KEY,
      // One process: the test times its point in time by /readyz's lag, and a member's view of
      // the leader's replication is up to a second old (the leader broadcasts it every second).
      AUTHN_WORKERS: '1',
    })
    expect(server.banner).toContain(`replicating every environment with Litestream to ${template}`)
    await until(server.base, 'first snapshot', (c) => c.ok && c.envs[0]?.position !== null)

    // Litestream dies: the server starts it again.
    const first = await replication(server.base)
    process.kill(first.pid!, 'SIGKILL')
    await until(
      server.base,
      'restart',
      (c) => c.restarts >= 1 && c.state === 'running' && c.pid !== first.pid,
    )

    // An env created beside the running server (the CLI) joins the replication.
    const created = await cli([
      'env',
      'create',
      '--name',
      'Later',
      '--host',
      'later.example.test',
      '--data',
      data,
      '--json',
    ])
    expect(created.code).toBe(0)
    const later = JSON.parse(created.stdout) as { id: string }
    await until(server.base, 'new env replicated', (c) =>
      c.envs.some((e) => e.env_id === later.id && e.position !== null),
    )
    expect(readdirSync(join(replicas, later.id, 'authn-keys'))).toContain('data.key.sealed')

    const before = startWriter(server.base, env!, { lanes: 3, tag: 'before' })
    while (before.acked.length < 30) await Bun.sleep(10)
    await before.stop()
    await until(server.base, 'caught up', (c) => c.envs.every((e) => e.lag_seconds === 0), 15_000)
    await Bun.sleep(1_500)
    const pointInTime = new Date().toISOString()
    await Bun.sleep(1_500)
    const after = startWriter(server.base, env!, { lanes: 3, tag: 'after' })
    while (after.acked.length < 30) await Bun.sleep(10)
    await after.stop()
    expect([...before.errors, ...after.errors]).toEqual([])
    await Bun.sleep(1_500)
    await until(server.base, 'caught up', (c) => c.envs.every((e) => e.lag_seconds === 0), 15_000)
    const status = await cli(['replication', 'status', '--data', data, '--json'], {
      AUTHN_REPLICA_URL: template,
    })
    expect(status.code).toBe(0)
    expect(
      (JSON.parse(status.stdout) as Array<{ env_id: string; error: string | null }>)
        .map((e) => [e.env_id, e.error])
        .sort(),
    ).toEqual([env!.id, later.id].sort().map((id) => [id, null]))
    expect(await server.stop()).toBe(0)

    // The key folder is in the replica, sealed: no key material in the clear.
    const stored = readdirSync(join(replicas, env!.id, 'authn-keys'))
    expect(stored).toContain('data.key.sealed')
    expect(stored.every((n) => n.endsWith('.sealed'))).toBe(true)
    expect(readFileSync(join(replicas, env!.id, 'authn-keys', 'data.key.sealed'), 'utf8')).not.toContain(
      dataKey.trim(),
    )

    // The disk dies.
    rmSync(data, { recursive: true, force: true })

    // Without the backup key, the keys cannot be restored, and nothing half-restored is left.
    const restored = dirs.make()
    const keyless = await cli(['restore', '--env', env!.id, '--from', template, '--data', restored])
    expect(keyless.code).toBe(1)
    expect(keyless.stderr).toContain('set AUTHN_BACKUP_KEY')
    expect(existsSync(join(restored, env!.id))).toBe(false)

    const full = await cli(['restore', '--env', env!.id, '--from', template, '--data', restored, '--json'], {
      AUTHN_BACKUP_KEY: BACKUP_KEY,
    })
    expect(full.stderr).toBe('')
    expect(full.code).toBe(0)
    const ids = userIds(join(restored, env!.id, 'env.sqlite'))
    expect([...before.acked, ...after.acked].filter((id) => !ids.has(id))).toEqual([])
    expect(readFileSync(join(restored, env!.id, 'keys', 'data.key'), 'utf8')).toBe(dataKey)

    // Point in time: everything before, nothing after.
    const pit = dirs.make()
    const earlier = await cli(
      ['restore', '--env', env!.id, '--from', template, '--timestamp', pointInTime, '--data', pit, '--json'],
      { AUTHN_BACKUP_KEY: BACKUP_KEY },
    )
    expect(earlier.stderr).toBe('')
    expect(earlier.code).toBe(0)
    const then = userIds(join(pit, env!.id, 'env.sqlite'))
    expect(before.acked.filter((id) => !then.has(id))).toEqual([])
    expect(after.acked.filter((id) => then.has(id))).toEqual([])

    // The restored folder is served: its secret key, its signing keys.
    const again = await serveLogged(restored, await freePort(), running)
    const count = await fetch(`${again.base}/v1/users/count`, {
      headers: { authorization: `Bearer ${env!.secretKey}` },
    })
    expect(((await count.json()) as { total_count: number }).total_count).toBe(ids.size)
    const jwks = await fetch(`${again.base}/.well-known/jwks.json`, { headers: { host: env!.host } })
    expect(jwks.status).toBe(200)
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0)
    expect(await again.stop()).toBe(0)
  }, 180_000)
})
