// Load driver for bench/token-refresh.sh (runs under node, autocannon's home runtime).
// token-refresh.sh creates one env per algorithm and starts the server; this file signs a user
// in on each env, checks the token endpoint answers 200 with a JWT, then per algorithm measures
// the bare signing loop (bench/token-refresh-sign.ts, under bun) and the server's
// `POST /v1/client/sessions/{sid}/tokens`, and reports one against the other.
import { spawn } from 'node:child_process'
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
const PORT = need('BENCH_AUTHN_PORT')
const PID = process.env.BENCH_AUTHN_PID
const DATA = need('BENCH_DATA')
const ENVS = JSON.parse(need('BENCH_ENVS'))
const BUN = need('BENCH_BUN')
const GOAL = 0.8
const ORIGIN = 'http://localhost:5173'
const EMAIL = 'bench@example.com'
const PASSWORD = 'correct horse battery staple'
const HERE = dirname(fileURLToPath(import.meta.url))
const RESULTS = process.env.BENCH_RESULTS ?? join(HERE, 'results', 'token-refresh.json')

const json = (res, what) => {
  if (res.status !== 200) throw new Error(`${what} -> ${res.status}: ${res.body.slice(0, 500)}`)
  return JSON.parse(res.body)
}

/** A signed-in browser client on the env: its cookie and session id, and one minted token. */
async function signIn({ alg, env }) {
  const created = await call(
    PORT,
    'POST',
    '/v1/users',
    { authorization: `Bearer ${env.secret_key}`, 'content-type': 'application/json' },
    JSON.stringify({ email_address: [EMAIL], password: PASSWORD }),
  )
  if (created.status !== 200 && created.status !== 201)
    throw new Error(`${alg}: POST /v1/users -> ${created.status}: ${created.body.slice(0, 500)}`)

  const fapi = { host: env.host, origin: ORIGIN }
  const res = await call(
    PORT,
    'POST',
    '/v1/client/sign-ins',
    { ...fapi, 'content-type': 'application/json' },
    JSON.stringify({ identifier: EMAIL, password: PASSWORD }),
  )
  const signIn = json(res, `${alg}: POST /v1/client/sign-ins`)
  const sid = signIn.response?.created_session_id
  const cookie = [res.headers['set-cookie'] ?? []]
    .flat()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('__authn_client='))
  if (!sid || !cookie)
    throw new Error(`${alg}: sign-in gave no session or no cookie: ${res.body.slice(0, 500)}`)

  const headers = { ...fapi, cookie }
  const path = `/v1/client/sessions/${sid}/tokens`
  const token = json(await call(PORT, 'POST', path, headers), `${alg}: POST ${path}`)
  if (token.object !== 'token' || typeof token.jwt !== 'string')
    throw new Error(`${alg}: token endpoint answered ${JSON.stringify(token).slice(0, 300)}`)
  const header = JSON.parse(Buffer.from(token.jwt.split('.')[0], 'base64url').toString('utf8'))
  if (header.alg !== alg) throw new Error(`${alg}: env signs with ${header.alg}`)
  return { path, headers, jwt: token.jwt }
}

/** Runs the bare signing loop under bun and returns its JSON line. */
let child = null
function ceiling(envId, jwt, inFlight) {
  return new Promise((resolve, reject) => {
    const args = [
      'bench/token-refresh-sign.ts',
      join(DATA, envId, 'keys'),
      jwt,
      String(SECONDS),
      String(WARMUP),
    ]
    child = spawn(BUN, [...args, String(inFlight)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      child = null
      if (code !== 0) return reject(new Error(`token-refresh-sign.ts exited ${code ?? signal}`))
      resolve(JSON.parse(out.trim().split('\n').at(-1)))
    })
  })
}
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    child?.kill('SIGTERM')
    process.exit(signal === 'SIGINT' ? 130 : 143)
  })
}

function cannon(target, duration) {
  return autocannon({
    url: `http://127.0.0.1:${PORT}${target.path}`,
    method: 'POST',
    headers: target.headers,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
  })
}

async function main() {
  // Sign in everywhere first: the sign-ins' argon2 work must not overlap any measurement.
  const targets = []
  for (const e of ENVS) targets.push({ ...e, ...(await signIn(e)) })

  const rows = []
  for (const t of targets) {
    process.stderr.write(`bench: ${t.alg}: signing loop, warm-up ${WARMUP}s, then ${SECONDS}s, 1 in flight\n`)
    const seq = await ceiling(t.env.id, t.jwt, 1)
    process.stderr.write(`bench: ${t.alg}: signing loop, ${CONNECTIONS} in flight\n`)
    const par = await ceiling(t.env.id, t.jwt, CONNECTIONS)
    process.stderr.write(
      `bench: ${t.alg}: POST /v1/client/sessions/{sid}/tokens: warm-up ${WARMUP}s, then ${SECONDS}s x ${CONNECTIONS} connections\n`,
    )
    await cannon(t, WARMUP)
    const cpu0 = cpuTicks(PID)
    const r = await cannon(t, SECONDS)
    const cpu1 = cpuTicks(PID)
    const total = r.requests.total
    const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]))
    const not200 = Object.entries(statuses).reduce((n, [code, count]) => n + (code === '200' ? 0 : count), 0)
    rows.push({
      alg: t.alg,
      kid: seq.kid,
      ceiling: {
        signs_per_sec: seq.signs_per_sec,
        cpu_us_per_sign: seq.cpu_us_per_sign,
        signs: seq.signs,
      },
      ceiling_in_flight: {
        in_flight: par.in_flight,
        signs_per_sec: par.signs_per_sec,
        cpu_us_per_sign: par.cpu_us_per_sign,
        signs: par.signs,
      },
      server: {
        url: `http://127.0.0.1:${PORT}${t.path}`,
        req_per_sec: r.requests.average,
        req_per_sec_stddev: r.requests.stddev,
        requests: total,
        latency_ms: { avg: r.latency.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
        status_codes: statuses,
        not_200: not200,
        errors: r.errors,
        timeouts: r.timeouts,
        cpu_us_per_req:
          cpu0 !== null && cpu1 !== null && total > 0
            ? Math.round((((cpu1 - cpu0) / TICKS_PER_SECOND) * 1e6) / total)
            : null,
      },
      ratio: seq.signs_per_sec > 0 ? r.requests.average / seq.signs_per_sec : null,
      goal_ratio: GOAL,
    })
  }

  const fmt = (n, d = 0) => (n === null || n === undefined ? '-' : n.toFixed(d))
  const table = [
    [
      'alg',
      'ceiling signs/s',
      'sign CPU us',
      `signs/s @${CONNECTIONS}`,
      'server req/s',
      'ratio',
      'goal',
      'p50 ms',
      'p99 ms',
      'srv CPU us/req',
      'not-200/err',
    ],
    ...rows.map((r) => [
      r.alg,
      fmt(r.ceiling.signs_per_sec),
      fmt(r.ceiling.cpu_us_per_sign),
      fmt(r.ceiling_in_flight.signs_per_sec),
      fmt(r.server.req_per_sec),
      fmt(r.ratio * 100, 1) + '%',
      `>=${GOAL * 100}% ${r.ratio >= GOAL ? 'ok' : 'MISS'}`,
      fmt(r.server.latency_ms.p50),
      fmt(r.server.latency_ms.p99),
      fmt(r.server.cpu_us_per_req),
      `${r.server.not_200}/${r.server.errors + r.server.timeouts}`,
    ]),
  ]
  const text = alignTable(table)
  const machine = machineInfo()
  const header = `${SECONDS}s per measurement, ${CONNECTIONS} connections, ${WARMUP}s warm-up; ${machineLine(machine)}`
  console.log(`${header}\n${text}`)

  const result = {
    date: new Date().toISOString(),
    git: process.env.BENCH_GIT ?? null,
    settings: {
      seconds: SECONDS,
      connections: CONNECTIONS,
      warmup_seconds: WARMUP,
      pipelining: 1,
      origin: ORIGIN,
    },
    machine,
    results: rows,
  }
  writeResults(RESULTS, result)

  const failed = rows.filter((r) => r.server.not_200 > 0 || r.server.errors > 0 || r.server.timeouts > 0)
  if (failed.length > 0) {
    console.error(`bench: non-200 responses or errors on: ${failed.map((r) => r.alg).join(', ')}`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(`bench: ${err?.stack ?? err}`)
  child?.kill('SIGTERM')
  process.exit(1)
})
