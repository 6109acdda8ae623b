import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type Running } from '../e2e/helpers'
import { type SeededEnv, seedEnvs, serve, serveLogged, startWriter, tempDirs } from './support'

const dirs = tempDirs()
const running: Running[] = []
afterAll(async () => {
  for (const r of running) if (r.proc.exitCode === null) r.proc.kill('SIGKILL')
  dirs.clean()
})

/** The user ids in an env's database, read the way a restart reads it (WAL recovered). */
function userIds(dataDir: string, env: SeededEnv): Set<string> {
  const db = new Database(join(dataDir, env.id, 'env.sqlite'))
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

/** Slow requests in flight at the signal: user creation with a password (an argon2id hash each). */
function startSlowWriter(base: string, env: SeededEnv) {
  const acked: string[] = []
  const statuses: number[] = []
  let stopped = false
  let n = 0
  const lane = async () => {
    while (!stopped) {
      try {
        const res = await fetch(`${base}/v1/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${env.secretKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            email_address: [`slow${++n}@example.com`],
            password: 'correct horse battery',
          }),
        })
        statuses.push(res.status)
        const b = (await res.json()) as { id: string }
        if (res.status === 200) acked.push(b.id)
      } catch {
        if (stopped) return
        await Bun.sleep(20)
      }
    }
  }
  const lanes = [lane(), lane()]
  return {
    acked,
    statuses,
    async stop() {
      stopped = true
      await Promise.all(lanes)
    },
  }
}

describe('SIGTERM under load', () => {
  it('finishes what it accepted, refuses the rest, stops jobs and closes every handle', async () => {
    const data = dirs.make()
    const [env] = await seedEnvs(data, ['shutdown.example.test'])
    const server = await serveLogged(data, await freePort(), running)
    const fast = startWriter(server.base, env!, { lanes: 4 })
    const slow = startSlowWriter(server.base, env!)
    while (fast.acked.length < 30 || slow.acked.length < 2) await Bun.sleep(10)

    server.proc.kill('SIGTERM')
    const code = await server.proc.exited
    await Promise.all([fast.stop(), slow.stop()])
    const stderr = await new Response(server.proc.stderr).text()

    expect(code).toBe(0)
    expect(stderr).toBe('')
    // Every answer was a success or a 503 asking to retry; connections refused after the
    // listener closed are not answers. No accepted request failed.
    const failed = fast.errors.filter((e) => /^\d{3} /.test(e) && !e.includes('server_shutting_down'))
    expect(failed).toEqual([])
    expect(slow.statuses.filter((s) => s !== 200 && s !== 503)).toEqual([])
    // Every request the server answered (its access log) reached its client with that answer:
    // the 200s it logged are exactly the 200s the clients got. A connection reset or refused at
    // close carried a request the server never took (it is not in the log, nor in the data).
    const lines = await server.lines()
    const answered = lines.filter((l) => l.msg === 'request' && l.path === '/v1/users')
    expect(answered.filter((l) => l.status === 200).length).toBe(fast.acked.length + slow.acked.length)
    expect(answered.filter((l) => l.status !== 200 && l.status !== 503)).toEqual([])
    const messages = lines.map((l) => l.msg)
    expect(messages).toContain('shutting down: draining requests')
    expect(messages.at(-1)).toBe('stopped: every env handle closed')
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([])
    // Everything acknowledged is in the database.
    const ids = userIds(data, env!)
    expect([...fast.acked, ...slow.acked].filter((id) => !ids.has(id))).toEqual([])
    // Every handle was closed cleanly: SQLite checkpoints and removes the WAL on the last close.
    expect(existsSync(join(data, env!.id, 'env.sqlite-wal'))).toBe(false)
    expect(existsSync(join(data, 'registry.sqlite-wal'))).toBe(false)
  }, 90_000)
})

describe('kill -9 under steady writes', () => {
  it('loses no acknowledged write, three times over', async () => {
    const data = dirs.make()
    const [env] = await seedEnvs(data, ['crash.example.test'])
    const acked: string[] = []
    for (let round = 0; round < 3; round++) {
      const server = await serve(data, await freePort(), running)
      const writer = startWriter(server.base, env!, { lanes: 4, tag: `r${round}-` })
      const target = 40 + Math.floor(Math.random() * 40)
      while (writer.acked.length < target) await Bun.sleep(5)
      server.proc.kill('SIGKILL')
      await server.proc.exited
      await writer.stop()
      acked.push(...writer.acked)
      const ids = userIds(data, env!)
      expect(acked.filter((id) => !ids.has(id))).toEqual([])
    }
    // And the server comes back on the data it left.
    const again = await serve(data, await freePort(), running)
    const res = await fetch(`${again.base}/v1/users/count`, {
      headers: { authorization: `Bearer ${env!.secretKey}` },
    })
    expect(((await res.json()) as { total_count: number }).total_count).toBeGreaterThanOrEqual(acked.length)
    again.proc.kill('SIGTERM')
    expect(await again.proc.exited).toBe(0)
  }, 120_000)
})
