/**
 * One node, many environments (issue 16): bulk-creates BENCH_ENVS envs (default 10,000) in a
 * temp data root with the `env create --count` path, rebuilds the registry from the folders,
 * then serves requests round-robin across all of them through the default pool (1,536 handles),
 * so every request opens its env cold. Reports, against the goals:
 *   registry rebuild from folders   < 10 s
 *   cold open + first request p99   < 10 ms   (server.handle, GET /v1/environment on the env's host)
 *   RSS while serving all of them   < 1 GiB
 *
 *   npx bun bench/ten-thousand.ts            # BENCH_ENVS=1000 for a quick look
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { silentLogger } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment, createEnvTemplate, syncRegistry } from '../src/tenancy/environments'

const N = Number(process.env.BENCH_ENVS ?? 10_000)
const PASSES = Number(process.env.BENCH_PASSES ?? 2)
const data = mkdtempSync(join(tmpdir(), 'authn-bench-10k-'))
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024)
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

try {
  // 1. Bulk creation (ES256: generating RSA keys would dominate; the path is the same).
  let rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), { log: silentLogger })
  const template = join(data, '.template.sqlite')
  createEnvTemplate(template)
  const hosts: string[] = []
  let t = performance.now()
  for (let n = 1; n <= N; n++) {
    const env = await createEnvironment(rt.tenancy, {
      name: `Tenant ${n}`,
      hosts: [`tenant-${n}.bench.test`],
      algorithm: 'ES256',
      template,
    })
    hosts.push(env.hosts[0]!)
    if (n % 1000 === 0) console.error(`created ${n} envs (${Math.round(performance.now() - t)} ms)`)
  }
  const createMs = performance.now() - t
  rt.close()
  rmSync(template)

  // 2. Registry rebuild from the folders alone.
  for (const f of readdirSync(data).filter((f) => f.startsWith('registry.sqlite'))) rmSync(join(data, f))
  rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), { log: silentLogger })
  t = performance.now()
  const sync = syncRegistry(rt.tenancy)
  const rebuildMs = performance.now() - t
  if (sync.envs !== N || sync.problems.length)
    throw new Error(`rebuild: ${JSON.stringify(sync).slice(0, 500)}`)

  // 3. Round-robin over every env: each request opens its env cold (N > pool size).
  const latencies: number[] = []
  let rss = process.memoryUsage().rss
  for (let pass = 0; pass < PASSES; pass++) {
    for (let i = 0; i < hosts.length; i++) {
      const start = performance.now()
      const res = await rt.server.handle(new Request(`https://${hosts[i]}/v1/environment`), '127.0.0.1')
      await res.arrayBuffer()
      latencies.push(performance.now() - start)
      if (res.status !== 200) throw new Error(`${hosts[i]}: ${res.status}`)
      if (i % 500 === 0) rss = Math.max(rss, process.memoryUsage().rss)
    }
  }
  rss = Math.max(rss, process.memoryUsage().rss)
  const stats = rt.pool.stats()
  rt.close()

  latencies.sort((a, b) => a - b)
  const p50 = percentile(latencies, 0.5)
  const p99 = percentile(latencies, 0.99)
  const goals = [
    ['registry rebuild from folders', `${(rebuildMs / 1000).toFixed(2)} s`, rebuildMs < 10_000, '< 10 s'],
    ['cold open + first request p99', `${p99.toFixed(2)} ms`, p99 < 10, '< 10 ms'],
    ['RSS while serving all envs', `${mib(rss)} MiB`, rss < 1024 ** 3, '< 1024 MiB'],
  ] as const
  console.log(`\n== ${N} environments in one data root (pool ${loadConfig({}).maxOpenEnvs} handles)`)
  console.log(`bulk creation: ${(createMs / 1000).toFixed(1)} s (${(createMs / N).toFixed(2)} ms per env)`)
  console.log(
    `requests: ${latencies.length} round-robin, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms; pool opens ${stats.opens}, evictions ${stats.evictions}`,
  )
  for (const [what, value, ok, goal] of goals)
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}: ${value} (goal ${goal})`)
  console.log(
    JSON.stringify({
      envs: N,
      create_ms: Math.round(createMs),
      rebuild_ms: Math.round(rebuildMs),
      p50_ms: p50,
      p99_ms: p99,
      rss_mib: mib(rss),
    }),
  )
} finally {
  rmSync(data, { recursive: true, force: true })
}
