// The scheduler benchmark's measurement (run by bench/scheduler.sh, which starts the server).
// Phases, one after the other, against one `serve` over BENCH_ENVS envs:
//   1. first pass: every env is due (as after an upgrade or a registry rebuild); probe requests
//      run while the scheduler works through them, until none is due (or BENCH_PASS_SECONDS).
//   2. idle CPU: no requests for BENCH_IDLE_SECONDS; the server's CPU time / wall time.
//   3. idle probes: probe requests for BENCH_PROBE_SECONDS while the scheduler ticks.
//   4. control: the same probes against bench/hello.ts (a bare Bun.serve) for as long: the
//      latency noise of the machine itself, to read the others against.
// A probe is one GET /.well-known/jwks.json on an env's host at a time, every
// BENCH_PROBE_GAP_MS; its latency is what a tick (or anything else) makes a request wait.
// "steps", ">10 ms" and "step ms" count the synchronous steps of the phase's ticks (an env's
// open, one job, its due time and close, a registry write ...), those over 10 ms, and the
// longest, from the server's own `scheduler tick` debug lines: how long a tick can hold a
// request up, without the noise of the machine that the probes also carry.
import { Database } from 'bun:sqlite'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

const env = (name: string, fallback?: string) => {
  const v = process.env[name] ?? fallback
  if (v === undefined) throw new Error(`${name} is not set (run bench/scheduler.sh)`)
  return v
}
const port = Number(env('BENCH_PORT'))
const helloPort = Number(env('BENCH_HELLO_PORT'))
const pid = Number(env('BENCH_PID'))
const data = env('BENCH_DATA')
const envs = Number(env('BENCH_ENVS'))
const passSeconds = Number(env('BENCH_PASS_SECONDS', '300'))
const idleSeconds = Number(env('BENCH_IDLE_SECONDS', '30'))
const probeSeconds = Number(env('BENCH_PROBE_SECONDS', '30'))
const gapMs = Number(env('BENCH_PROBE_GAP_MS', '2'))
const intervalMs = Number(env('AUTHN_JOB_INTERVAL_MS'))
const TICKS_PER_SECOND = 100

function cpuTicks(): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : null
}
const fds = () => readdirSync(`/proc/${pid}/fd`).length

const registry = new Database(join(data, 'registry.sqlite'), { readonly: true })
const hasDue = registry
  .query<{ n: number }, []>("SELECT count(*) AS n FROM pragma_table_info('envs') WHERE name = 'next_due_at'")
  .get()!.n
/** Envs still due; null when the registry has no due times (a build before them). */
const stillDue = () =>
  hasDue
    ? registry
        .query<{ n: number }, [number]>('SELECT count(*) AS n FROM envs WHERE next_due_at <= ?')
        .get(Date.now())!.n
    : null
const hosts = registry
  .query<{ host: string }, []>('SELECT host FROM hosts ORDER BY host LIMIT 8')
  .all()
  .map((r) => r.host)

interface Probes {
  count: number
  failed: number
  p50: number
  p99: number
  max: number
}
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0
const round = (ms: number) => Math.round(ms * 100) / 100

/** Sequential probes until `until()` says stop; latencies in ms. */
async function probe(until: () => boolean, target = port): Promise<Probes> {
  const ms: number[] = []
  let failed = 0
  let i = 0
  while (!until()) {
    const host = hosts[i++ % hosts.length]!
    const t = performance.now()
    const res = await fetch(`http://127.0.0.1:${target}/.well-known/jwks.json`, { headers: { host } })
    await res.arrayBuffer()
    ms.push(performance.now() - t)
    if (res.status !== 200) failed++
    await Bun.sleep(gapMs)
  }
  ms.sort((a, b) => a - b)
  return {
    count: ms.length,
    failed,
    p50: round(pct(ms, 50)),
    p99: round(pct(ms, 99)),
    max: round(ms.at(-1) ?? 0),
  }
}

/** The server's `scheduler tick` log lines since the previous call (none from older builds). */
const logFile = process.env.BENCH_LOG
let logOffset = 0
interface TickSummary {
  ticks: number
  ran: number
  steps: number
  /** Steps longer than 10 ms. */
  slow_steps: number
  longest_step_ms: number | null
  longest_step: string | null
}
function ticksSince(): TickSummary {
  const summary: TickSummary = {
    ticks: 0,
    ran: 0,
    steps: 0,
    slow_steps: 0,
    longest_step_ms: null,
    longest_step: null,
  }
  if (!logFile) return summary
  const text = readFileSync(logFile, 'utf8')
  const fresh = text.slice(logOffset)
  logOffset = text.length
  for (const line of fresh.split('\n')) {
    if (!line.includes('"scheduler tick"')) continue
    const t = JSON.parse(line) as {
      ran: number
      longest_step_ms: number
      longest_step?: string
      steps?: number
      slow_steps?: number
    }
    summary.ticks++
    summary.ran += t.ran
    summary.steps += t.steps ?? 0
    summary.slow_steps += t.slow_steps ?? 0
    if (summary.longest_step_ms === null || t.longest_step_ms > summary.longest_step_ms) {
      summary.longest_step_ms = t.longest_step_ms
      summary.longest_step = t.longest_step ?? null
    }
  }
  return summary
}

const cpuPercent = (ticks: number, seconds: number) =>
  Math.round((ticks / TICKS_PER_SECOND / seconds) * 1000) / 10

// 1. The first pass.
let passEnded: number | null = null
const passStart = performance.now()
const cpu0 = cpuTicks()
const watch = setInterval(() => {
  if (passEnded === null && stillDue() === 0) passEnded = performance.now()
}, 250)
const pass = await probe(() => passEnded !== null || performance.now() - passStart > passSeconds * 1000)
clearInterval(watch)
const passWall = (performance.now() - passStart) / 1000
const passCpu = cpuPercent(cpuTicks() - cpu0, passWall)
const firstPass = {
  ticks: ticksSince(),
  finished: passEnded !== null,
  seconds: Math.round(passWall * 10) / 10,
  still_due: stillDue(),
  cpu_percent: passCpu,
  probes: pass,
}

// 2. Idle CPU, no requests. One interval first, so that a tick in flight ends.
await Bun.sleep(Math.min(intervalMs, 15_000) + 500)
const idle0 = cpuTicks()
const idleStart = performance.now()
await Bun.sleep(idleSeconds * 1000)
const idleWall = (performance.now() - idleStart) / 1000
const idleCpu = cpuPercent(cpuTicks() - idle0, idleWall)
const idleTicks = ticksSince()

// 3. Probes while the scheduler ticks.
const probeStart = performance.now()
const idleProbes = await probe(() => performance.now() - probeStart > probeSeconds * 1000)
const probeTicks = ticksSince()

// 4. The control: the same probes against a bare Bun.serve (no authn, no scheduler).
const helloStart = performance.now()
const control = await probe(() => performance.now() - helloStart > probeSeconds * 1000, helloPort)

const result = {
  at: new Date().toISOString(),
  git: process.env.BENCH_GIT ?? null,
  src: process.env.BENCH_SRC_LABEL ?? null,
  envs,
  job_interval_ms: intervalMs,
  max_open_envs: Number(process.env.AUTHN_MAX_OPEN_ENVS ?? 512),
  probe_gap_ms: gapMs,
  machine: {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    loadavg: os.loadavg(),
    bun: Bun.version,
  },
  first_pass: firstPass,
  idle: { seconds: Math.round(idleWall * 10) / 10, cpu_percent: idleCpu, ticks: idleTicks },
  idle_probes: { seconds: probeSeconds, ...idleProbes, ticks: probeTicks },
  control_probes_bare_bun: { seconds: probeSeconds, ...control },
  server: { rss_mb: rssMb(), fds: fds() },
}
const out = join(import.meta.dir, 'results', 'scheduler.json')
mkdirSync(join(import.meta.dir, 'results'), { recursive: true })
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)

const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(38) : c.padStart(9))).join(' ')
console.log(
  `${envs} envs, job interval ${intervalMs} ms, probe every ${gapMs} ms; ${result.machine.cpus} x ${result.machine.cpu_model}; bun ${Bun.version}; load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
)
console.log(
  line([
    'phase',
    'seconds',
    'CPU %',
    'probes',
    'p50 ms',
    'p99 ms',
    'max ms',
    'failed',
    'ticks',
    'steps',
    '>10 ms',
    'step ms',
  ]),
)
const tickCells = (t: TickSummary) => [
  String(t.ticks),
  String(t.steps),
  String(t.slow_steps),
  String(t.longest_step_ms ?? '-'),
]
console.log(
  line([
    `first pass (${firstPass.finished ? 'done' : `cut, ${firstPass.still_due ?? '?'} still due`})`,
    String(firstPass.seconds),
    String(passCpu),
    String(pass.count),
    String(pass.p50),
    String(pass.p99),
    String(pass.max),
    String(pass.failed),
    ...tickCells(firstPass.ticks),
  ]),
)
console.log(
  line([
    'idle, no requests',
    String(result.idle.seconds),
    String(idleCpu),
    '-',
    '-',
    '-',
    '-',
    '-',
    ...tickCells(idleTicks),
  ]),
)
console.log(
  line([
    'idle, probes during ticks',
    String(probeSeconds),
    '-',
    String(idleProbes.count),
    String(idleProbes.p50),
    String(idleProbes.p99),
    String(idleProbes.max),
    String(idleProbes.failed),
    ...tickCells(probeTicks),
  ]),
)
console.log(
  line([
    'control: bare Bun.serve, same probes',
    String(probeSeconds),
    '-',
    String(control.count),
    String(control.p50),
    String(control.p99),
    String(control.max),
    String(control.failed),
    '-',
    '-',
    '-',
    '-',
  ]),
)
console.log(
  `goals: idle CPU < 2 %: ${idleCpu < 2 ? 'ok' : 'MISS'}; idle ticks' longest step <= 10 ms: ${
    Math.max(idleTicks.longest_step_ms ?? 0, probeTicks.longest_step_ms ?? 0) <= 10 ? 'ok' : 'MISS'
  }; first pass: ${firstPass.ticks.slow_steps} of ${firstPass.ticks.steps} steps over 10 ms` +
    `; server RSS ${result.server.rss_mb} MiB, ${result.server.fds} fds`,
)
console.log(`wrote ${out}`)
process.exit(pass.failed + idleProbes.failed + control.failed > 0 ? 1 : 0)
