// Load driver for bench/oauth-token.sh (runs under node, autocannon's home runtime).
// Per algorithm: signs a user in, measures session-token refresh
// (`POST /v1/client/sessions/{sid}/tokens`), then registers an OAuth app, runs one authorization
// per connection (each gives its own refresh token chain in the same grant) and measures the
// `refresh_token` grant at `POST /oauth/token`, every connection presenting the refresh token its
// previous answer rotated to. Reports the grant's req/s as a ratio of the session refresh's.
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
const ENVS = JSON.parse(need('BENCH_ENVS'))
const GOAL = 0.5
const ORIGIN = 'http://localhost:5173'
const EMAIL = 'bench@example.com'
const PASSWORD = 'correct horse battery staple'
const REDIRECT = 'http://127.0.0.1:9/callback'
const HERE = dirname(fileURLToPath(import.meta.url))
const RESULTS = process.env.BENCH_RESULTS ?? join(HERE, 'results', 'oauth-token.json')

const json = (res, what, status = 200) => {
  if (res.status !== status) throw new Error(`${what} -> ${res.status}: ${res.body.slice(0, 500)}`)
  return JSON.parse(res.body)
}
const form = (fields) => new URLSearchParams(fields).toString()

async function prepare({ alg, env }) {
  const bapi = { authorization: `Bearer ${env.secret_key}`, 'content-type': 'application/json' }
  json(
    await call(
      PORT,
      'POST',
      '/v1/users',
      bapi,
      JSON.stringify({ email_address: [EMAIL], password: PASSWORD }),
    ),
    `${alg}: POST /v1/users`,
  )
  const fapi = { host: env.host, origin: ORIGIN }
  const res = await call(
    PORT,
    'POST',
    '/v1/client/sign-ins',
    { ...fapi, 'content-type': 'application/json' },
    JSON.stringify({ identifier: EMAIL, password: PASSWORD }),
  )
  const sid = json(res, `${alg}: sign-in`).response.created_session_id
  const cookie = [res.headers['set-cookie'] ?? []]
    .flat()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('__authn_client='))
  const session = { path: `/v1/client/sessions/${sid}/tokens`, headers: { ...fapi, cookie } }
  json(await call(PORT, 'POST', session.path, session.headers), `${alg}: session token`)

  /**
   * A fresh app (so a fresh grant) and one refresh-token chain per connection. Each load phase
   * gets its own: a phase that stops with requests in flight leaves spent tokens behind, and
   * presenting one again would rightly revoke the whole grant.
   */
  const chainsOf = async (scope) => {
    const app = json(
      await call(
        PORT,
        'POST',
        '/v1/oauth-applications',
        bapi,
        JSON.stringify({
          name: 'Bench',
          redirect_uris: [REDIRECT],
          scopes: 'openid email offline_access',
          consent_screen_enabled: false,
        }),
      ),
      `${alg}: POST /v1/oauth-applications`,
    )
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64')}`
    const tokenHeaders = {
      host: env.host,
      authorization: basic,
      'content-type': 'application/x-www-form-urlencoded',
    }
    const chains = []
    for (let i = 0; i < 3 * CONNECTIONS; i++) {
      const q = form({
        client_id: app.client_id,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope,
      })
      const authz = await call(PORT, 'GET', `/oauth/authorize?${q}`, { host: env.host, cookie })
      if (authz.status !== 302)
        throw new Error(`${alg}: authorize -> ${authz.status}: ${authz.body.slice(0, 300)}`)
      const code = new URL(authz.headers.location).searchParams.get('code')
      const t = json(
        await call(
          PORT,
          'POST',
          '/oauth/token',
          tokenHeaders,
          form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
        ),
        `${alg}: code exchange`,
      )
      const header = JSON.parse(Buffer.from(t.access_token.split('.')[0], 'base64url').toString('utf8'))
      if (header.alg !== alg || header.typ !== 'at+jwt')
        throw new Error(`${alg}: access token header ${JSON.stringify(header)}`)
      chains.push(t.refresh_token)
    }
    return { tokenHeaders, chains }
  }
  return { alg, session, chainsOf }
}

function measureSession(t, duration, started = () => {}) {
  started()
  return autocannon({
    url: `http://127.0.0.1:${PORT}${t.session.path}`,
    method: 'POST',
    headers: t.session.headers,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
  })
}

/** Each connection keeps its own chain: the body carries the token the last answer gave it. */
async function measureGrant(t, scope, duration, started = () => {}) {
  const { tokenHeaders, chains } = await t.chainsOf(scope)
  const free = [...chains]
  started()
  return autocannon({
    url: `http://127.0.0.1:${PORT}/oauth/token`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: tokenHeaders,
        // autocannon's context lives for one request, so tokens are lent from a pool: a chain is
        // never presented twice at once. The pool is larger than the connections: requests built
        // but never sent (autocannon builds one per connection up front) keep theirs.
        setupRequest: (req, context) => {
          context.token = free.pop()
          if (context.token === undefined) throw new Error('bench: the refresh-token pool ran dry')
          return { ...req, body: form({ grant_type: 'refresh_token', refresh_token: context.token }) }
        },
        onResponse: (status, body) => {
          if (status === 200) free.unshift(JSON.parse(body).refresh_token)
        },
      },
    ],
  })
}

const summary = (r, cpu0, cpu1) => {
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]))
  const total = r.requests.total
  return {
    req_per_sec: r.requests.average,
    requests: total,
    latency_ms: { p50: r.latency.p50, p99: r.latency.p99 },
    status_codes: statuses,
    not_200: Object.entries(statuses).reduce((n, [code, c]) => n + (code === '200' ? 0 : c), 0),
    errors: r.errors + r.timeouts,
    cpu_us_per_req:
      cpu0 !== null && cpu1 !== null && total > 0
        ? Math.round((((cpu1 - cpu0) / TICKS_PER_SECOND) * 1e6) / total)
        : null,
  }
}

async function measured(run) {
  await run(WARMUP)
  const cpu0 = { at: null }
  const r = await run(SECONDS, () => {
    cpu0.at = cpuTicks(PID)
  })
  return summary(r, cpu0.at, cpuTicks(PID))
}

async function main() {
  const targets = []
  for (const e of ENVS) targets.push(await prepare(e))
  // Two grants: with `openid` in the scope and without. A refresh answers with an access token
  // only (no new id_token, OIDC Core §12.2): one signature either way, like the session token.
  const SCOPES = [
    ['openid email offline_access', 'openid scope'],
    ['email offline_access', 'no openid'],
  ]
  const rows = []
  for (const t of targets) {
    process.stderr.write(
      `bench: ${t.alg}: session-token refresh, warm-up ${WARMUP}s, then ${SECONDS}s x ${CONNECTIONS}\n`,
    )
    const session = await measured((d, started) => measureSession(t, d, started))
    for (const [scope, what] of SCOPES) {
      process.stderr.write(
        `bench: ${t.alg}: refresh_token grant (${scope}), warm-up ${WARMUP}s, then ${SECONDS}s x ${CONNECTIONS}\n`,
      )
      const grant = await measured((d, started) => measureGrant(t, scope, d, started))
      rows.push({
        alg: t.alg,
        scope,
        what,
        session,
        grant,
        ratio: session.req_per_sec > 0 ? grant.req_per_sec / session.req_per_sec : null,
        goal_ratio: GOAL,
      })
    }
  }
  const fmt = (n, d = 0) => (n === null || n === undefined ? '-' : n.toFixed(d))
  const table = [
    [
      'alg',
      'grant',
      'session refresh req/s',
      'grant req/s',
      'ratio',
      'goal',
      'grant p50 ms',
      'grant p99 ms',
      'session CPU us/req',
      'grant CPU us/req',
      'not-200/err',
    ],
    ...rows.map((r) => [
      r.alg,
      r.what,
      fmt(r.session.req_per_sec),
      fmt(r.grant.req_per_sec),
      `${fmt(r.ratio, 2)}x`,
      `>=${GOAL}x ${r.ratio >= GOAL ? 'ok' : 'MISS'}`,
      fmt(r.grant.latency_ms.p50),
      fmt(r.grant.latency_ms.p99),
      fmt(r.session.cpu_us_per_req),
      fmt(r.grant.cpu_us_per_req),
      `${r.session.not_200 + r.grant.not_200}/${r.session.errors + r.grant.errors}`,
    ]),
  ]
  const text = alignTable(table)
  const machine = machineInfo()
  console.log(
    `${SECONDS}s per measurement, ${CONNECTIONS} connections, ${WARMUP}s warm-up; ${machineLine(machine)}\n${text}`,
  )
  writeResults(RESULTS, {
    date: new Date().toISOString(),
    git: process.env.BENCH_GIT ?? null,
    settings: { seconds: SECONDS, connections: CONNECTIONS, warmup_seconds: WARMUP },
    machine,
    results: rows,
  })
  if (rows.some((r) => r.session.not_200 || r.grant.not_200 || r.session.errors || r.grant.errors)) {
    console.error('bench: non-200 responses or errors')
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(`bench: ${err?.stack ?? err}`)
  process.exit(1)
})
