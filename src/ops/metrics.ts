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

export function createMetrics(): Metrics {
  const registry = new Registry()
  let sources: MetricSources | null = null
  const backlog = new Map<string, number>()

  const requests = new Counter({
    name: 'authn_http_requests_total',
    help: 'Requests answered, by surface, route template, method and status.',
    labelNames: ['surface', 'route', 'method', 'status'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'authn_http_request_duration_seconds',
    help: 'Time from receiving a request to its answer, by surface and route template.',
    labelNames: ['surface', 'route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
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
    request(s) {
      const status = String(s.status)
      requests.inc({ surface: s.surface, route: s.route, method: s.method, status })
      latency.observe({ surface: s.surface, route: s.route, method: s.method }, s.seconds)
    },
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
