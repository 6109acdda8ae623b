/**
 * Where a cold open + first request spends its time (issue 16): BENCH_ENVS envs (default 300)
 * in a temp data root, then each part of an open timed on its own over every env, and the whole
 * (server.handle of GET /v1/environment through a pool far smaller than the envs, so each
 * request opens its env cold). Prints p50/p99 per part.
 *
 *   npx bun bench/cold-open.ts
 */
import { constants } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { openKeyStore, readDataKey } from '../src/crypto/keys'
import { silentLogger } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment, createEnvTemplate } from '../src/tenancy/environments'
import { openEnvDatabase } from '../src/tenancy/open'
import { envDbFile, envDir, envKeysDir } from '../src/tenancy/paths'

const N = Number(process.env.BENCH_ENVS ?? 300)
const data = mkdtempSync(join(tmpdir(), 'authn-bench-cold-'))
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!

try {
  let rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), { log: silentLogger })
  const template = join(data, '.template.sqlite')
  createEnvTemplate(template)
  const envs: Array<{ id: string; host: string }> = []
  for (let n = 1; n <= N; n++) {
    const env = await createEnvironment(rt.tenancy, {
      name: `Cold ${n}`,
      hosts: [`cold-${n}.bench.test`],
      algorithm: 'ES256',
      template,
    })
    envs.push({ id: env.id, host: env.hosts[0]! })
  }
  rt.close()
  rmSync(template)

  const parts: Record<string, number[]> = {}
  const record = (name: string, ms: number) => {
    const xs = parts[name] ?? []
    xs.push(ms)
    parts[name] = xs
  }
  const time = (name: string, fn: () => void) => {
    const t = performance.now()
    fn()
    record(name, performance.now() - t)
  }
  // The same open and close, with the WAL files removed on close (before) and kept (after:
  // SQLITE_FCNTL_PERSIST_WAL, as the pool does), on alternate envs so both see the same load.
  for (let pass = 0; pass < 2; pass++) {
    for (const [i, { id }] of envs.entries()) {
      const persist = i % 2 === 1
      const file = envDbFile(envDir(data, id))
      time(`open + close, WAL files ${persist ? 'kept' : 'removed'}, pass ${pass + 1}`, () => {
        const { client } = openEnvDatabase(file)
        client.fileControl(constants.SQLITE_FCNTL_PERSIST_WAL, persist ? 1 : 0)
        client.query('SELECT id, type FROM environment LIMIT 1').get()
        client.close()
      })
    }
  }
  for (const { id } of envs) {
    const dir = envDir(data, id)
    time('sqlite open + pragmas + migrations check', () => openEnvDatabase(envDbFile(dir)).client.close())
    time('key store load', () => void openKeyStore(envKeysDir(dir)))
    time('data key read', () => void readDataKey(envKeysDir(dir)))
  }
  rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent', maxOpenEnvs: 8 }), {
    log: silentLogger,
  })
  for (let pass = 0; pass < 2; pass++) {
    for (const { id } of envs)
      time(`pool lease (cold open), pass ${pass + 1}`, () => rt.pool.lease(id)?.release())
  }
  for (let pass = 0; pass < 2; pass++) {
    for (const { host } of envs) {
      const t = performance.now()
      const res = await rt.server.handle(new Request(`https://${host}/v1/environment`), '127.0.0.1')
      await res.arrayBuffer()
      record(`cold open + GET /v1/environment, pass ${pass + 1}`, performance.now() - t)
      if (res.status !== 200) throw new Error(`${host}: ${res.status}`)
    }
  }
  rt.close()
  console.log(`== cold open, ${N} envs, pool 8 handles`)
  for (const [name, xs] of Object.entries(parts))
    console.log(`${name.padEnd(48)} p50 ${pct(xs, 0.5).toFixed(3)} ms  p99 ${pct(xs, 0.99).toFixed(3)} ms`)
} finally {
  rmSync(data, { recursive: true, force: true })
}
