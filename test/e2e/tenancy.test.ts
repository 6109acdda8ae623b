import { afterAll, describe, expect, it } from 'bun:test'
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { newId } from '../../src/lib/ids'
import { silentLogger } from '../../src/log'
import { createRuntime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'
import { fixtureKeys } from '../helpers/keys'
import { BUN, cli, freePort, ROOT, type Running, startServer } from './helpers'

const dirs: string[] = []
const running: Running[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'authn-e2e-tenancy-'))
  dirs.push(d)
  return d
}
afterAll(async () => {
  for (const r of running) if (r.proc.exitCode === null) await r.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const SERVE = [BUN, `${ROOT}src/main.ts`]
const start = async (data: string, port: number) => {
  const r = await startServer(SERVE, data, port)
  running.push(r)
  return r
}

/** Runs `serve` expecting it to refuse to start: its exit code and what it said. */
async function refused(data: string, port: number) {
  const p = Bun.spawn([...SERVE, 'serve', '--port', String(port), '--data', data], {
    cwd: ROOT,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, AUTHN_HOSTNAME: '127.0.0.1', AUTHN_LOG_LEVEL: 'info' },
  })
  const timer = setTimeout(() => p.kill('SIGKILL'), 20_000)
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ])
  clearTimeout(timer)
  return { code, stdout, stderr }
}

const jwks = (base: string, host: string) => fetch(`${base}/.well-known/jwks.json`, { headers: { host } })

describe('one data root, one server', () => {
  it('refuses a second server on the root and a server on a taken port; the CLI works beside; a killed server leaves no lock', async () => {
    const root = temp()
    const port = await freePort()
    const first = await start(root, port)

    const second = await refused(root, await freePort())
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`is already serving the data root ${root}`)
    expect(second.stderr).toContain(`pid ${first.proc.pid}`)

    const list = await cli(['env', 'list', '--data', root, '--json'])
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toHaveLength(1)

    // Another root on the same port: refused, and every request still reaches the first server.
    const other = await refused(temp(), port)
    expect(other.code).toBe(1)
    expect(other.stderr).toContain(`port ${port}`)
    const answers = await Promise.all(Array.from({ length: 30 }, () => jwks(first.base, 'localhost')))
    expect(answers.map((r) => r.status)).toEqual(Array(30).fill(200))

    // The lock goes with the process, however it ends.
    first.proc.kill('SIGKILL')
    await first.proc.exited
    const again = await start(root, port)
    expect((await jwks(again.base, 'localhost')).status).toBe(200)
    expect(await again.stop()).toBe(0)
  }, 60_000)
})

describe('broken and foreign env folders at start-up', () => {
  it('serves every other env, answers 503 for a broken one, skips a copied folder, and env list says so', async () => {
    const root = temp()
    // Made in process (a runtime over the root, as the CLI does), to keep the test quick.
    const rt = createRuntime(loadConfig({}, { dataDir: root, logLevel: 'silent' }), {
      log: silentLogger,
      signingKeys: fixtureKeys(),
    })
    const create = (name: string, host: string) => createEnvironment(rt.tenancy, { name, hosts: [host] })
    const good = await create('Good', 'good.localhost')
    const broken = await create('Broken', 'broken.localhost')
    rt.close()
    renameSync(join(root, broken.id, 'keys'), join(root, broken.id, 'keys.moved'))
    const copy = newId('environment')
    cpSync(join(root, good.id), join(root, copy), { recursive: true })

    const server = await start(root, await freePort())
    expect(server.banner).toContain(`env ${broken.id} UNAVAILABLE`)
    expect(server.banner).toContain(`folder ${copy} SKIPPED`)

    expect((await jwks(server.base, 'good.localhost')).status).toBe(200)
    const bapi = (key: string) =>
      fetch(`${server.base}/v1/users`, { headers: { authorization: `Bearer ${key}` } })
    expect((await bapi(good.secret_key)).status).toBe(200)
    for (const res of [await jwks(server.base, 'broken.localhost'), await bapi(broken.secret_key)]) {
      expect(res.status).toBe(503)
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'environment_unavailable',
      )
    }

    const list = await cli(['env', 'list', '--data', root, '--json'])
    expect(list.code).toBe(0)
    const envs = JSON.parse(list.stdout) as Array<{ id: string; problem?: string }>
    expect(envs.find((e) => e.id === good.id)?.problem).toBeUndefined()
    expect(envs.find((e) => e.id === broken.id)?.problem).toStartWith('unavailable: ')
    expect(envs.find((e) => e.id === copy)?.problem).toContain(`holds the environment ${good.id}`)

    // Repaired while the server runs: served again without a restart.
    renameSync(join(root, broken.id, 'keys.moved'), join(root, broken.id, 'keys'))
    expect((await jwks(server.base, 'broken.localhost')).status).toBe(200)
    expect(await server.stop()).toBe(0)
  }, 60_000)
})
