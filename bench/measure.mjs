import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import {
  alignTable,
  call,
  cpuTicks,
  int,
  machineInfo,
  machineLine,
  need,
  TICKS_PER_SECOND,
  writeResults,
} from './lib.mjs'

const SECONDS = int('BENCH_SECONDS', 10)
const CONNECTIONS = int('BENCH_CONNECTIONS', 50)
const WARMUP = int('BENCH_WARMUP_SECONDS', 2)
const HELLO_PORT = need('BENCH_HELLO_PORT')
const AUTHN_PORT = need('BENCH_AUTHN_PORT')
const ENV_HOST = need('BENCH_ENV_HOST')
const SECRET_KEY = need('BENCH_SECRET_KEY')
const PIDS = { bare: process.env.BENCH_HELLO_PID, authn: process.env.BENCH_AUTHN_PID }
const RESULTS =
  process.env.BENCH_RESULTS ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json')

function cannon(target, duration) {
  return autocannon({
    url: `http://127.0.0.1:${target.port}${target.path}`,
    method: 'GET',
    headers: target.headers,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
  })
}

async function main() {
  const bapi = { authorization: `Bearer ${SECRET_KEY}` }
  const created = await call(
    AUTHN_PORT,
    'POST',
    '/v1/users',
    { ...bapi, 'content-type': 'application/json' },
    JSON.stringify({ email_address: ['bench@example.com'], password: 'correct horse battery staple' }),
  )
  if (created.status !== 200 && created.status !== 201) {
    throw new Error(`POST /v1/users -> ${created.status}: ${created.body.slice(0, 500)}`)
  }
  const userId = JSON.parse(created.body).id

  const targets = [
    { name: 'bare', label: 'bare Bun.serve', port: HELLO_PORT, path: '/', headers: {}, pid: PIDS.bare },
    {
      name: 'jwks',
      label: 'GET /.well-known/jwks.json',
      port: AUTHN_PORT,
      path: '/.well-known/jwks.json',
      headers: { host: ENV_HOST },
      pid: PIDS.authn,
      target: 0.7,
    },
    {
      name: 'user',
      label: 'GET /v1/users/{id}',
      port: AUTHN_PORT,
      path: `/v1/users/${userId}`,
      headers: bapi,
      pid: PIDS.authn,
      target: 0.5,
    },
  ]

  // A benchmark of error pages measures nothing: every target must answer 200 with the right body.
  for (const t of targets) {
    const res = await call(t.port, 'GET', t.path, t.headers)
    const ok =
      res.status === 200 &&
      (t.name === 'bare'
        ? res.body === 'hello'
        : t.name === 'jwks'
          ? Array.isArray(JSON.parse(res.body).keys)
          : JSON.parse(res.body).id === userId)
    if (!ok) throw new Error(`${t.label} -> ${res.status}: ${res.body.slice(0, 300)}`)
  }

  const rows = []
  for (const t of targets) {
    process.stderr.write(
      `bench: ${t.label}: warm-up ${WARMUP}s, then ${SECONDS}s x ${CONNECTIONS} connections\n`,
    )
    await cannon(t, WARMUP)
    const cpu0 = cpuTicks(t.pid)
    const r = await cannon(t, SECONDS)
    const cpu1 = cpuTicks(t.pid)
    const total = r.requests.total
    rows.push({
      name: t.name,
      target: t.label,
      url: `http://127.0.0.1:${t.port}${t.path}`,
      req_per_sec: r.requests.average,
      req_per_sec_stddev: r.requests.stddev,
      requests: total,
      latency_ms: { avg: r.latency.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      non_2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      server_cpu_us_per_req:
        cpu0 !== null && cpu1 !== null && total > 0
          ? Math.round((((cpu1 - cpu0) / TICKS_PER_SECOND) * 1e6) / total)
          : null,
      goal_ratio: t.target ?? null,
    })
  }

  const bare = rows[0].req_per_sec
  for (const row of rows) row.ratio = bare > 0 ? row.req_per_sec / bare : null

  const fmt = (n, d = 0) => (n === null || n === undefined ? '-' : n.toFixed(d))
  const table = [
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'goal', 'srv CPU us/req', 'non-2xx/err'],
    ...rows.map((r) => [
      r.target,
      fmt(r.req_per_sec),
      fmt(r.latency_ms.p50),
      fmt(r.latency_ms.p99),
      fmt(r.ratio * 100, 1) + '%',
      r.goal_ratio === null ? '-' : `>=${r.goal_ratio * 100}% ${r.ratio >= r.goal_ratio ? 'ok' : 'MISS'}`,
      fmt(r.server_cpu_us_per_req),
      `${r.non_2xx}/${r.errors + r.timeouts}`,
    ]),
  ]
  const text = alignTable(table)
  const machine = machineInfo()
  const header = `${SECONDS}s per target, ${CONNECTIONS} connections, ${WARMUP}s warm-up; ${machineLine(machine)}`
  console.log(`${header}\n${text}`)

  const result = {
    date: new Date().toISOString(),
    git: process.env.BENCH_GIT ?? null,
    settings: { seconds: SECONDS, connections: CONNECTIONS, warmup_seconds: WARMUP, pipelining: 1 },
    machine,
    results: rows,
  }
  writeResults(RESULTS, result)

  const failed = rows.filter((r) => r.non_2xx > 0 || r.errors > 0 || r.timeouts > 0)
  if (failed.length > 0) {
    console.error(`bench: non-2xx responses or errors on: ${failed.map((r) => r.name).join(', ')}`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(`bench: ${err?.stack ?? err}`)
  process.exit(1)
})
