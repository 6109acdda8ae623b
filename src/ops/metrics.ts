import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** What the metrics read when scraped (the gauges); set once the runtime is wired. */
export interface MetricSources {
  openEnvs(): number
  poolStats(): { opens: number; evictions: number }
  /** Password hashing jobs running or waiting (the whole process). */
  passwordPending(): number
  /** Per env: seconds since its last replicated position, when replication runs. */
  replicationLag?(): Array<{ env_id: string; seconds: number }>
}

export interface RequestSample {
  surface: string
  /** The route template (`/v1/users/:user_id`), or a fixed label when no route matched. */
  route: string
  method: string
  status: number
  seconds: number
}

/**
 * The process's Prometheus metrics (prom-client, on a registry of its own rather than the
 * library's global one, so two runtimes in one test process do not mix). Counters and
 * histograms are fed by the dispatcher, the scheduler, the password queue and the webhook
 * worker; gauges are read from their sources at scrape time.
 */
export interface Metrics {
  readonly registry: Registry
  request(sample: RequestSample): void
  passwordWait(ms: number): void
  job(run: { job: string; lagMs: number; ms: number; ok: boolean }): void
  webhookAttempt(ok: boolean): void
  webhookBacklog(envId: string, pending: number): void
  /** Connects the scrape-time gauges to their sources. */
  watch(sources: MetricSources): void
  render(): Promise<string>
  readonly contentType: string
}

/** Seconds; from a cached token refresh (~1 ms) to a slow password check. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const LAG_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

type Labels = Record<string, string>
interface MetricValue {
  labels: Labels
  value: number
  metricName?: string
}

/**
 * The per-request counter and latency histogram. prom-client's inc() and observe() validate and
 * hash their labels on every call (~3-4 µs per request in the server, a tenth of a JWKS answer):
 * here a request is a Map lookup and a few additions, and prom-client gets the series as metric
 * objects of its own shape, rendered by its registry at scrape time.
 */
function requestMetrics(registry: Registry) {
  const counts = new Map<string, MetricValue>()
  const series = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>()
  const family = (name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) => {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: async () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
      reset() {
        if (type === 'counter') counts.clear()
        else series.clear()
      },
    }
    registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0])
  }
  family(
    'authn_http_requests_total',
    'Requests answered, by surface, route template, method and status.',
    'counter',
    () => [...counts.values()],
  )
  const latency = 'authn_http_request_duration_seconds'
  family(
    latency,
    'Time from receiving a request to its answer, by surface and route template.',
    'histogram',
    () => {
      const out: MetricValue[] = []
      for (const s of series.values()) {
        let cumulative = 0
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += s.buckets[i]!
          out.push({
            metricName: `${latency}_bucket`,
            labels: { ...s.labels, le: String(le) },
            value: cumulative,
          })
        })
        out.push({ metricName: `${latency}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count })
        out.push({ metricName: `${latency}_sum`, labels: s.labels, value: s.sum })
        out.push({ metricName: `${latency}_count`, labels: s.labels, value: s.count })
      }
      return out
    },
  )
  return (r: RequestSample) => {
    const key = `${r.surface}\u0000${r.route}\u0000${r.method}`
    let s = series.get(key)
    if (!s) {
      s = {
        labels: { surface: r.surface, route: r.route, method: r.method },
        buckets: LATENCY_BUCKETS.map(() => 0),
        sum: 0,
        count: 0,
      }
      series.set(key, s)
    }
    const bucket = LATENCY_BUCKETS.findIndex((le) => r.seconds <= le)
    if (bucket !== -1) s.buckets[bucket]!++
    s.sum += r.seconds
    s.count++
    const countKey = `${key}\u0000${r.status}`
    const c = counts.get(countKey)
    if (c) c.value++
    else counts.set(countKey, { labels: { ...s.labels, status: String(r.status) }, value: 1 })
  }
}

export function createMetrics(): Metrics {
  const registry = new Registry()
  let sources: MetricSources | null = null
  const backlog = new Map<string, number>()

  const request = requestMetrics(registry)
  new Gauge({
    name: 'authn_env_handles_open',
    help: 'Environment database handles open in the pool (LRU).',
    registers: [registry],
    collect() {
      if (sources) this.set(sources.openEnvs())
    },
  })
  new Counter({
    name: 'authn_env_pool_opens_total',
    help: 'Environment databases opened by the pool (requests and background work).',
    registers: [registry],
    collect() {
      if (!sources) return
      this.reset()
      this.inc(sources.poolStats().opens)
    },
  })
  new Counter({
    name: 'authn_env_pool_evictions_total',
    help: 'Environment handles pushed out of the pool by the LRU.',
    registers: [registry],
    collect() {
      if (!sources) return
      this.reset()
      this.inc(sources.poolStats().evictions)
    },
  })
  new Gauge({
    name: 'authn_password_queue_depth',
    help: 'Password hashing jobs running or waiting for a slot.',
    registers: [registry],
    collect() {
      if (sources) this.set(sources.passwordPending())
    },
  })
  const passwordWait = new Histogram({
    name: 'authn_password_queue_wait_seconds',
    help: 'How long a password hashing job waited for a slot.',
    buckets: WAIT_BUCKETS,
    registers: [registry],
  })
  const jobLag = new Histogram({
    name: 'authn_job_lag_seconds',
    help: 'How late a background job started after its work came due (or after it was kicked), by job.',
    labelNames: ['job'] as const,
    buckets: LAG_BUCKETS,
    registers: [registry],
  })
  const jobRuns = new Counter({
    name: 'authn_job_runs_total',
    help: 'Background job runs, by job and outcome.',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  })
  new Gauge({
    name: 'authn_webhook_backlog',
    help: 'Webhook deliveries not yet sent, summed over the envs as of their last delivery run.',
    registers: [registry],
    collect() {
      let total = 0
      for (const n of backlog.values()) total += n
      this.set(total)
    },
  })
  const webhookAttempts = new Counter({
    name: 'authn_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  new Gauge({
    name: 'authn_replication_lag_seconds',
    help: 'Seconds since the last position Litestream replicated, per env (only when replicating).',
    labelNames: ['env_id'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const r of sources?.replicationLag?.() ?? []) this.set({ env_id: r.env_id }, r.seconds)
    },
  })
  // Pre-set so the series exist (at zero) before the first event.
  webhookAttempts.inc({ outcome: 'succeeded' }, 0)
  webhookAttempts.inc({ outcome: 'failed' }, 0)

  return {
    registry,
    request,
    passwordWait: (ms) => passwordWait.observe(ms / 1000),
    job(run) {
      jobLag.observe({ job: run.job }, run.lagMs / 1000)
      jobRuns.inc({ job: run.job, outcome: run.ok ? 'ok' : 'failed' })
    },
    webhookAttempt: (ok) => webhookAttempts.inc({ outcome: ok ? 'succeeded' : 'failed' }),
    webhookBacklog(envId, pending) {
      if (pending === 0) backlog.delete(envId)
      else backlog.set(envId, pending)
    },
    watch(s) {
      sources = s
    },
    render: () => registry.metrics(),
    get contentType() {
      return registry.contentType
    },
  }
}
