// The hot paths against the ceiling of the stack, in one run, on loopback (bench/README.md,
// "Ceiling"). Every target is divided by an anchor measured in the same run:
//   session-token refresh (ES256, 1 worker, 1,000 clients)   ÷ the refresh mock (bench/mock)
//   JWKS (1 worker)                                           ÷ bare Bun.serve
//   BAPI GET /v1/users/{id} (1 worker)                        ÷ bare Bun.serve
//   refresh spread over BENCH_ENVS environments               ÷ the single-env refresh above
//   refresh RS256 with 2 workers                              ÷ raw RS256 signing on 2 processes
// usage: bun bench/ceiling.ts   (needs wrk: apt-get install wrk)
//   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_CONNECTIONS=64 BENCH_ROUNDS=3 BENCH_CLIENTS=1000 BENCH_ENVS=1000

import { Database } from 'bun:sqlite'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Subprocess } from 'bun'
import { loadConfig } from '../src/config'
import { silentLogger } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment } from '../src/tenancy/environments'
import { registryFile } from '../src/tenancy/paths'

const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const SECONDS = int('BENCH_SECONDS', 10)
const WARMUP = int('BENCH_WARMUP_SECONDS', 2)
const CONNECTIONS = int('BENCH_CONNECTIONS', 64)
const THREADS = int('BENCH_THREADS', 1)
const ROUNDS = int('BENCH_ROUNDS', 1)
const CLIENTS = int('BENCH_CLIENTS', 1000)
const ENVS = int('BENCH_ENVS', 1000)
/** A comma-separated subset of refresh,jwks,user,many,rs256 (default: all). */
const PERF_DIR = process.env.BENCH_PERF_DIR
const TARGETS = new Set((process.env.BENCH_TARGETS ?? 'refresh,jwks,user,many,rs256').split(','))
const ROOT = new URL('..', import.meta.url).pathname
const BUN = process.execPath
const ORIGIN = 'http://localhost:5173'
const tmp = mkdtempSync(join(tmpdir(), 'authn-ceiling-'))
const data = join(tmp, 'data')
const children: Subprocess[] = []
const log = (line: string) => console.error(`[ceiling] ${line}`)

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))

async function freePort() {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  await s.stop(true)
  return port
}

async function start(cmd: string[], env: Record<string, string>, port: number, name: string) {
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  children.push(proc)
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited: ${await new Response(proc.stderr).text()}`)
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) })
      return proc
    } catch {
      await Bun.sleep(100)
    }
  }
  throw new Error(`${name} did not listen on ${port}`)
}

async function stop(proc: Subprocess) {
  proc.kill('SIGTERM')
  await proc.exited
}

/**
 * A server that starts looks at every env written since it was last indexed (all of them, after
 * the setup): waits for that pass to end, so targets measure the steady state of a running server
 * rather than whichever of them comes first.
 */
async function schedulerSettled() {
  const registry = new Database(registryFile(data), { readonly: true })
  const due = registry.query<{ n: number }, [number]>(
    'SELECT count(*) AS n FROM envs WHERE next_due_at <= ? AND problem IS NULL',
  )
  const started = Date.now()
  try {
    for (;;) {
      const n = due.get(Date.now())?.n ?? 0
      if (n === 0) break
      if (Date.now() - started > 180_000) throw new Error(`${n} envs still due after 3 minutes`)
      await Bun.sleep(250)
    }
  } finally {
    registry.close()
  }
  if (Date.now() - started > 1000)
    log(`waited ${((Date.now() - started) / 1000).toFixed(1)} s for the startup job pass`)
}

const authn = (port: number, workers: number, rateLimits = true) =>
  start(
    [
      BUN,
      // BENCH_PROFILE_DIR: each server writes a CPU profile there when it stops (bun --cpu-prof).
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      'src/main.ts',
      'serve',
      '--port',
      String(port),
      '--data',
      data,
      '--workers',
      String(workers),
    ],
    // Access lines are written (to /dev/null): formatting them is part of the real cost.
    {
      AUTHN_HOSTNAME: '127.0.0.1',
      AUTHN_LOG_LEVEL: 'info',
      AUTHN_RATE_LIMITS: String(rateLimits),
      // BENCH_PERF_DIR: JavaScriptCore writes where its JIT put each function, for perf's symbols.
      ...(PERF_DIR ? { BUN_JSC_useJITDump: '1', BUN_JSC_jitDumpDirectory: PERF_DIR } : {}),
    },
    port,
    'authn',
  )

// ---- setup: environments (in process, before any server reads the root), then clients ----------

interface Env {
  id: string
  host: string
  secret: string
}
async function createEnvs() {
  const rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), { log: silentLogger })
  const make = async (host: string, algorithm: 'ES256' | 'RS256'): Promise<Env> => {
    const e = await createEnvironment(rt.tenancy, { name: host, hosts: [host], algorithm })
    return { id: e.id, host, secret: e.secret_key }
  }
  const es256 = await make('es256.localhost', 'ES256')
  const rs256 = await make('rs256.localhost', 'RS256')
  const many: Env[] = []
  for (let i = 0; i < ENVS; i++) many.push(await make(`m${i}.localhost`, 'ES256'))
  rt.close()
  return { es256, rs256, many }
}

async function json(res: Response, what: string) {
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${what} -> ${res.status}: ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

/** A browser client signed in on the env (through a sign-in token: no password hashing). */
async function signedInClient(port: number, env: Env, n: number) {
  const bapi = { authorization: `Bearer ${env.secret}`, 'content-type': 'application/json' }
  const base = `http://127.0.0.1:${port}`
  const user = await json(
    await fetch(`${base}/v1/users`, {
      method: 'POST',
      headers: bapi,
      body: JSON.stringify({ email_address: [`bench${n}@example.com`], skip_password_requirement: true }),
    }),
    'create user',
  )
  const ticket = await json(
    await fetch(`${base}/v1/sign-in-tokens`, {
      method: 'POST',
      headers: bapi,
      body: JSON.stringify({ user_id: user.id }),
    }),
    'sign-in token',
  )
  const res = await fetch(`${base}/v1/client/sign-ins`, {
    method: 'POST',
    headers: { host: env.host, origin: ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify({ strategy: 'ticket', ticket: ticket.token }),
  })
  const cookie = res.headers.get('set-cookie')?.match(/__authn_client=([^;]+)/)?.[1]
  const body = await json(res, 'ticket sign-in')
  const sid = body.response.created_session_id as string
  if (!cookie || !sid) throw new Error('sign-in left no cookie or session')
  return { userId: user.id as string, line: refreshLine(env.host, sid, cookie) }
}

const refreshLine = (host: string, sid: string, cookie: string) =>
  [
    'POST',
    `/v1/client/sessions/${sid}/tokens`,
    `Host: ${host}`,
    `Origin: ${ORIGIN}`,
    `Cookie: __authn_client=${cookie}`,
  ].join('\t')

/** Sends one request line (the wrk file format) with fetch. */
async function replay(port: number, line: string) {
  const [method, path, ...headerLines] = line.split('\t')
  const headers = Object.fromEntries(
    headerLines.map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1).trim()]),
  )
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers })
  await res.arrayBuffer()
}

async function inBatches<T>(n: number, width: number, fn: (i: number) => Promise<T>) {
  const out: T[] = []
  for (let i = 0; i < n; i += width)
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)))))
  return out
}

// ---- measuring ----------------------------------------------------------------------------------

interface Sample {
  requests: number
  rps: number
  /** CPU the server's processes spent per answered request (user + system, all threads). */
  cpu_us?: number
  p50_us: number
  p99_us: number
  status_errors: number
  socket_errors: number
}

function requestFile(name: string, lines: string[]) {
  const file = join(tmp, `${name}.tsv`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

async function wrk(port: number, file: string, seconds: number): Promise<Sample> {
  const proc = Bun.spawn(
    [
      'wrk',
      `-t${THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      // A cold environment's first request (the multi-env target) may take a while on a busy box.
      '--timeout',
      '10s',
      '-s',
      join(ROOT, 'bench/wrk/pick.lua'),
      `http://127.0.0.1:${port}`,
    ],
    { env: { ...process.env, WRK_REQUESTS: file }, stdout: 'pipe', stderr: 'pipe' },
  )
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`)
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
  if (!line) throw new Error(`wrk printed no result:\n${out}`)
  return JSON.parse(line)
}

/** utime + stime of a process and its children's threads, in µs (Linux /proc). */
function cpuOf(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {}
  }
  return (ticks * 1e6) / 100
}
/** The server's process and its workers (children). */
function serverPids(proc: Subprocess | undefined): number[] {
  if (!proc) return []
  const children = Bun.spawnSync(['pgrep', '-P', String(proc.pid)])
    .stdout.toString()
    .trim()
  return [proc.pid, ...children.split('\n').filter(Boolean).map(Number)]
}

/**
 * BENCH_PERF_DIR: `perf record` samples the server's processes (all threads, kernel included)
 * over the measured seconds; JavaScript frames get names from the JIT dumps (jit-perf-map.ts).
 */
function perfRecord(pids: number[], name: string) {
  if (!PERF_DIR || pids.length === 0) return null
  const out = join(PERF_DIR, `${name}-${Date.now()}.data`)
  log(`perf record -> ${out}`)
  return Bun.spawn(
    [
      'perf',
      'record',
      '-q',
      '-e',
      'cpu-clock',
      '-F',
      '1999',
      '-g',
      '-p',
      pids.join(','),
      '-o',
      out,
      '--',
      'sleep',
      String(SECONDS),
    ],
    { stdout: 'ignore', stderr: 'inherit' },
  )
}

async function measure(port: number, file: string, proc?: Subprocess): Promise<Sample> {
  if (WARMUP > 0) await wrk(port, file, WARMUP)
  const pids = serverPids(proc)
  const cpu0 = cpuOf(pids)
  const perf = perfRecord(pids, basename(file, '.tsv'))
  const s = await wrk(port, file, SECONDS)
  await perf?.exited
  if (pids.length) s.cpu_us = (cpuOf(pids) - cpu0) / s.requests
  if (s.status_errors || s.socket_errors)
    throw new Error(`${file}: ${s.status_errors} error answers, ${s.socket_errors} socket errors`)
  return s
}

/** N signing processes at once (the CPUs' raw rate): their summed signatures per second. */
async function signing(alg: string, processes: number) {
  const procs = Array.from({ length: processes }, () =>
    Bun.spawn([BUN, 'bench/sign-loop.ts', alg, String(SECONDS)], { cwd: ROOT, stdout: 'pipe' }),
  )
  const outs = await Promise.all(procs.map(async (p) => JSON.parse(await new Response(p.stdout).text())))
  return outs.reduce((sum, o) => sum + o.per_sec, 0) as number
}

// ---- the run --------------------------------------------------------------------------------------

mkdirSync(data, { recursive: true })
log(`creating ${ENVS + 2} environments`)
const envs = await createEnvs()
const port = await freePort()

log(`signing in ${CLIENTS} clients on es256.localhost, 200 on rs256.localhost, one on each of ${ENVS} envs`)
let server = await authn(port, 1, false)
const es256Clients = await inBatches(CLIENTS, 16, (i) => signedInClient(port, envs.es256, i))
const rs256Clients = await inBatches(200, 16, (i) => signedInClient(port, envs.rs256, i))
const manyClients = await inBatches(ENVS, 16, (i) => signedInClient(port, envs.many[i]!, 0))
await stop(server)

const files: Record<string, string> = {
  hello: requestFile('hello', ['GET\t/\tHost: localhost']),
  jwks: requestFile('jwks', ['GET\t/.well-known/jwks.json\tHost: es256.localhost']),
  user: requestFile('user', [
    ['GET', `/v1/users/${es256Clients[0]!.userId}`, `Authorization: Bearer ${envs.es256.secret}`].join('\t'),
  ]),
  refresh: requestFile(
    'refresh',
    es256Clients.map((c) => c.line),
  ),
  many: requestFile(
    'many',
    manyClients.map((c) => c.line),
  ),
  rs256: requestFile(
    'rs256',
    rs256Clients.map((c) => c.line),
  ),
}

const mockPort = await freePort()
const mockData = join(tmp, 'mock')
log('starting the refresh mock (seeds 100,000 sessions)')
const mockProc = await start(
  [BUN, 'bench/mock/refresh.ts'],
  {
    PORT: String(mockPort),
    MOCK_DATA: mockData,
    ...(PERF_DIR ? { BUN_JSC_useJITDump: '1', BUN_JSC_jitDumpDirectory: PERF_DIR } : {}),
  },
  mockPort,
  'mock',
)
const mockSids = readFileSync(join(mockData, 'refresh-sids.txt'), 'utf8').trim().split('\n')
files.mock = requestFile(
  'mock',
  mockSids.map((sid) => `POST\t/auth/refresh\tCookie: sid=${sid}`),
)
const helloPort = await freePort()
const helloProc = await start([BUN, 'bench/hello.ts', String(helloPort)], {}, helloPort, 'hello')

interface Row {
  target: string
  anchor: string
  goal: number
  samples: Array<{ target: Sample; anchor: Sample | number }>
  p99Goal?: number
}
const rows: Row[] = [
  {
    target: 'refresh ES256, 1 worker, 1,000 clients',
    anchor: 'mock POST /auth/refresh',
    goal: 0.8,
    p99Goal: 1.5,
    samples: [],
  },
  { target: 'GET /.well-known/jwks.json', anchor: 'bare Bun.serve', goal: 0.9, samples: [] },
  { target: 'BAPI GET /v1/users/{id}', anchor: 'bare Bun.serve', goal: 0.5, samples: [] },
  { target: `refresh ES256 over ${ENVS} envs`, anchor: 'refresh ES256, one env', goal: 0.8, samples: [] },
  { target: 'refresh RS256, 2 workers', anchor: 'raw RS256 signing, 2 processes', goal: 0.8, samples: [] },
]

const want = (name: string) => TARGETS.has(name)
for (let round = 1; round <= ROUNDS; round++) {
  log(`round ${round}/${ROUNDS}`)
  server = await authn(port, 1)
  await schedulerSettled()
  let refresh: Sample | undefined
  if (want('refresh') || want('many')) {
    const mock = await measure(mockPort, files.mock!, mockProc)
    refresh = await measure(port, files.refresh!, server)
    if (want('refresh')) rows[0]!.samples.push({ target: refresh, anchor: mock })
  }
  if (want('jwks') || want('user')) {
    const hello = await measure(helloPort, files.hello!, helloProc)
    if (want('jwks'))
      rows[1]!.samples.push({ target: await measure(port, files.jwks!, server), anchor: hello })
    if (want('user'))
      rows[2]!.samples.push({ target: await measure(port, files.user!, server), anchor: hello })
  }
  if (want('many') && refresh) {
    // Every env once before the clock starts: the target is the steady state of a pool that
    // holds them (or does not: with more envs than handles the LRU churns, and that is measured).
    await inBatches(manyClients.length, 16, (i) => replay(port, manyClients[i]!.line))
    rows[3]!.samples.push({ target: await measure(port, files.many!, server), anchor: refresh })
  }
  await stop(server)
  if (want('rs256')) {
    const rawRs256 = await signing('RS256', 2)
    server = await authn(port, 2)
    await schedulerSettled()
    rows[4]!.samples.push({ target: await measure(port, files.rs256!, server), anchor: rawRs256 })
    await stop(server)
  }
}

const rateOf = (a: Sample | number) => (typeof a === 'number' ? a : a.rps)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const cpuCell = (xs: Array<Sample | number>) => {
  const cpu = xs.flatMap((x) => (typeof x === 'number' || x.cpu_us === undefined ? [] : [x.cpu_us]))
  return cpu.length ? median(cpu).toFixed(0) : '-'
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const header = [
  'target',
  'req/s',
  'p99 ms',
  'cpu µs/req',
  'anchor',
  'anchor/s',
  'cpu µs/req',
  'ratio (median)',
  'spread',
  'goal',
]
const table: string[][] = [header]
const results = rows
  .filter((r) => r.samples.length)
  .map((r) => {
    const ratios = r.samples.map((s) => s.target.rps / rateOf(s.anchor))
    const ratio = median(ratios)
    const p99Ratios = r.samples.map((s) =>
      typeof s.anchor === 'number' ? Number.NaN : s.target.p99_us / s.anchor.p99_us,
    )
    const met = ratio >= r.goal && (r.p99Goal === undefined || median(p99Ratios) <= r.p99Goal)
    table.push([
      r.target,
      fmt(median(r.samples.map((s) => s.target.rps))),
      (median(r.samples.map((s) => s.target.p99_us)) / 1000).toFixed(1),
      cpuCell(r.samples.map((s) => s.target)),
      r.anchor,
      fmt(median(r.samples.map((s) => rateOf(s.anchor)))),
      cpuCell(r.samples.map((s) => s.anchor)),
      `${(ratio * 100).toFixed(1)}%${r.p99Goal ? ` (p99 ×${median(p99Ratios).toFixed(2)})` : ''}`,
      `${(Math.min(...ratios) * 100).toFixed(0)}–${(Math.max(...ratios) * 100).toFixed(0)}%`,
      `≥${r.goal * 100}%${r.p99Goal ? `, p99 ≤×${r.p99Goal}` : ''} ${met ? 'ok' : 'MISS'}`,
    ])
    return { ...r, ratio, ratios, p99_ratio: median(p99Ratios), met }
  })
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
const git = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: ROOT }).stdout.toString().trim()
console.log(
  `${SECONDS}s per target after ${WARMUP}s warm-up, wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} round(s); ${cpus().length} x ${cpus()[0]?.model ?? '?'}; bun ${Bun.version}; commit ${git}`,
)
for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '))
mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
writeFileSync(
  join(ROOT, 'bench/results/ceiling.json'),
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      commit: git,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, bun: Bun.version },
      settings: { SECONDS, WARMUP, CONNECTIONS, THREADS, ROUNDS, CLIENTS, ENVS },
      results,
    },
    null,
    2,
  )}\n`,
)
process.exit(0)
