import type { Clock } from '../lib/clock'
import type { Logger } from '../log'
import type { EnvContext } from '../tenancy/context'
import { type EnvPool, EnvUnavailableError, type Lease } from '../tenancy/pool'
import type { Registry } from '../tenancy/registry'

/** A unit of background work for an env (expiry, delivery, pruning). */
export interface EnvJob {
  name: string
  run(ctx: EnvContext): void | Promise<void>
  /**
   * When the job next has work in this env, from its own data (e.g. the earliest `expire_at` of
   * what it expires): a time at or before `now` if it has work now, null if it has none. A job
   * without it counts as due on every tick.
   */
  nextDue?(ctx: EnvContext, now: number): number | null
}

export interface Scheduler {
  start(): void
  /**
   * One pass: first the due times of the envs this process wrote to are brought forward where
   * their deadlines moved, then every env whose time has come (registry `next_due_at`) runs
   * every job and gets its next due time. Tests call it with a fixed clock.
   */
  tick(): Promise<void>
  /**
   * Runs one job for one env soon (after the current synchronous transaction has committed),
   * without waiting for the next tick: e.g. webhook delivery right after an event. Kicks while
   * the job is already queued coalesce; a kick while it runs makes it run once more.
   */
  kick(envId: string, jobName: string): void
  /**
   * Records the deadlines of an env whose handle is about to close (the pool's beforeClose):
   * when this process wrote to it, its due time may only move earlier.
   */
  beforeClose(ctx: EnvContext, changed: boolean): void
  /** Resolves once no tick or kick is running or queued (tests wait on it). */
  idle(): Promise<void>
  /** Stops ticking, refuses new kicks and waits for work in progress to finish. */
  stop(): Promise<void>
}

/** Where the scheduler's interval waits come from; tests fire them by hand. */
export interface Timers {
  /** Calls fn once after ms, without keeping the process alive for it. */
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export const systemTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * The longest an env goes without a pass even when its jobs say nothing is due (a safety net
 * for rows written behind the scheduler's back). Each env's share of it is spread by its id so
 * that thousands of envs do not come due at once.
 */
export const SWEEP_MS = 6 * 60 * 60 * 1000

/** A stable spread in [SWEEP_MS / 2, SWEEP_MS) per env. */
function sweepOf(envId: string, sweepMs: number) {
  let h = 0
  for (let i = 0; i < envId.length; i++) h = (h * 31 + envId.charCodeAt(i)) >>> 0
  return sweepMs / 2 + (h % 1000) * (sweepMs / 2000)
}

/** Due times written to the registry per transaction. */
const DUE_BATCH = 64

/** Lets requests (and everything else waiting on the event loop) run between two envs. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

interface TickStats {
  changed: number
  due: number
  ran: number
  /** When the current synchronous step began, and the longest step so far (ms) and what it was. */
  stepStart: number
  longest: number
  longestStep: string
  /** Steps, and steps longer than SLOW_STEP_MS. */
  steps: number
  slow: number
}

/** A step the tick log counts as slow: longer than the delay a tick may cause a request. */
const SLOW_STEP_MS = 10

/** Yields, noting how long the step that ends here held the event loop. */
async function breathe(stats: TickStats, step: string) {
  const ms = performance.now() - stats.stepStart
  stats.steps++
  if (ms > SLOW_STEP_MS) stats.slow++
  if (ms > stats.longest) {
    stats.longest = ms
    stats.longestStep = step
  }
  await yieldToLoop()
  stats.stepStart = performance.now()
}

export function createScheduler(deps: {
  jobs: EnvJob[]
  pool: EnvPool
  registry: Registry
  clock: Clock
  log: Logger
  intervalMs: number
  /** Defaults to setTimeout (unref'd). */
  timers?: Timers
  /** Defaults to SWEEP_MS. */
  sweepMs?: number
  /**
   * A worker of a server group that is not its leader: jobs run only in the leader, so every
   * env's jobs run in exactly one process. This one still records the deadlines its writes
   * create (the registry's due times, which the leader reads) and hands its kicks to the
   * leader with `forward` once the writing transaction has committed.
   */
  follower?: { forward(envId: string, jobName: string): void }
  /**
   * Told of every job run: how late it started after its work was due (or after its kick), how
   * long it ran (ms) and whether it threw. The metrics' job lag.
   */
  onJob?: (run: { job: string; lagMs: number; ms: number; ok: boolean }) => void
}): Scheduler {
  const timers = deps.timers ?? systemTimers
  const sweepMs = deps.sweepMs ?? SWEEP_MS
  let timer: unknown = null
  let running: Promise<void> | null = null
  let stopped = false
  const kicks = new Map<string, { started: boolean; again: boolean; done: Promise<void> }>()
  /**
   * Due times computed in this tick, written to the registry in batches: one transaction per
   * env made the registry's WAL checkpoint (an fsync) every few hundred envs of a pass.
   */
  const pending = new Map<string, number>()

  function setDue(envId: string, at: number) {
    pending.set(envId, at)
  }
  /** Writes a batch of due times to the registry (a failure is logged, not thrown) and empties it. */
  function record(dues: Map<string, number>, write: (dues: Map<string, number>) => void) {
    if (!dues.size) return
    try {
      write(dues)
    } catch (err) {
      deps.log.error({ err }, 'recording due times failed')
    }
    dues.clear()
  }
  const flush = () => record(pending, (dues) => deps.registry.setDueMany(dues))
  const lowerDues = (lowered: Map<string, number>) =>
    record(lowered, (dues) => deps.registry.lowerDueMany(dues))

  /** The earliest time any job of the env has work; `now` when a job cannot say. */
  function nextDue(ctx: EnvContext, now: number): number {
    let at = now + sweepOf(ctx.id, sweepMs)
    for (const job of deps.jobs) {
      if (!job.nextDue) return now
      try {
        const due = job.nextDue(ctx, now)
        if (due !== null) at = Math.min(at, due)
      } catch (err) {
        deps.log.error({ err, job: job.name, env_id: ctx.id }, 'job due time failed')
        return now
      }
    }
    return at
  }

  /** A lease for background work, or null (with the env's due time moved) when it cannot be had. */
  function leaseFor(envId: string, now: number): Lease | null {
    try {
      const lease = deps.pool.lease(envId, { transient: true })
      // The folder is gone (deleted by hand): the next sync drops the entry.
      if (!lease) setDue(envId, now + sweepMs)
      return lease
    } catch (err) {
      if (err instanceof EnvUnavailableError) {
        // Logged by the pool; tried again when the pool will try it again.
        setDue(envId, err.retryAt)
      } else {
        deps.log.error({ err, env_id: envId }, 'environment could not be opened for jobs')
        setDue(envId, now + deps.intervalMs)
      }
      return null
    }
  }

  /** When the job's work in the env came due, or null when it has none now (a job that cannot say always has). */
  function jobDue(job: EnvJob, ctx: EnvContext, now: number): number | null {
    if (!job.nextDue) return now
    try {
      const at = job.nextDue(ctx, now)
      return at !== null && at <= now ? at : null
    } catch (err) {
      deps.log.error({ err, job: job.name, env_id: ctx.id }, 'job due time failed')
      return now
    }
  }

  /** Runs one job, logging what it throws and telling onJob. */
  async function runJob(job: EnvJob, ctx: EnvContext, dueAt: number) {
    const started = performance.now()
    const lagMs = Math.max(0, deps.clock.now() - dueAt)
    let ok = true
    try {
      await job.run(ctx)
    } catch (err) {
      ok = false
      deps.log.error({ err, job: job.name, env_id: ctx.id }, 'job failed')
    }
    deps.onJob?.({ job: job.name, lagMs, ms: performance.now() - started, ok })
  }

  /**
   * Runs the env's due jobs, then records its next due time. The event loop gets a turn after
   * the open and after each job, so no request waits behind more than one of them.
   */
  async function runEnv(envId: string, now: number, stats: TickStats) {
    const lease = leaseFor(envId, now)
    if (!lease) return
    stats.ran++
    try {
      await breathe(stats, 'open')
      // Once started, an env's due jobs all run (stop() waits for them).
      for (const job of deps.jobs) {
        const dueAt = jobDue(job, lease.ctx, now)
        if (dueAt === null) continue
        await breathe(stats, 'due check')
        await runJob(job, lease.ctx, dueAt)
        // An async job (webhook delivery) waited on the network: its own turns don't count.
        stats.stepStart = performance.now()
      }
      await breathe(stats, 'due checks or job')
      // Computed after the jobs, from what they left: marked seen in the same synchronous step.
      setDue(envId, nextDue(lease.ctx, deps.clock.now()))
      deps.pool.markSeen(envId)
      await breathe(stats, 'due time')
    } finally {
      lease.release()
    }
  }

  /**
   * An env this process wrote to: a new deadline may be earlier than its recorded due time.
   * `lowered` gathers the pass's envs for one registry transaction; without it, written at once.
   */
  function refresh(ctx: EnvContext, now: number, lowered?: Map<string, number>) {
    const at = nextDue(ctx, now)
    const queued = pending.get(ctx.id)
    if (queued !== undefined && at < queued) pending.set(ctx.id, at)
    if (lowered) lowered.set(ctx.id, at)
    else deps.registry.lowerDueMany([[ctx.id, at]])
  }

  async function tick() {
    const stats: TickStats = {
      changed: 0,
      due: 0,
      ran: 0,
      stepStart: performance.now(),
      longest: 0,
      longestStep: 'start',
      steps: 0,
      slow: 0,
    }
    const started = stats.stepStart
    try {
      await pass(stats)
    } finally {
      flush()
      if (performance.now() - stats.stepStart > stats.longest) {
        stats.longest = performance.now() - stats.stepStart
        stats.longestStep = 'end'
      }
      // How long the tick held the event loop at most: what it could make a request wait.
      deps.log.debug(
        {
          changed: stats.changed,
          due: stats.due,
          ran: stats.ran,
          ms: Math.round((performance.now() - started) * 100) / 100,
          longest_step_ms: Math.round(stats.longest * 100) / 100,
          longest_step: stats.longestStep,
          steps: stats.steps,
          slow_steps: stats.slow,
        },
        'scheduler tick',
      )
    }
  }

  async function pass(stats: TickStats) {
    const now = deps.clock.now()
    const changed = deps.pool.changedEnvs()
    stats.changed = changed.length
    // One registry transaction for the pass's lowered due times (each env's own cost ~1,000 of
    // them a tick when every env has a signed-in tab), written before the due envs are read.
    const lowered = new Map<string, number>()
    try {
      for (const envId of changed) {
        if (stopped) return
        const lease = leaseFor(envId, now)
        if (!lease) continue
        try {
          refresh(lease.ctx, now, lowered)
          deps.pool.markSeen(envId)
        } finally {
          lease.release()
        }
        await breathe(stats, 'refresh')
        if (lowered.size >= DUE_BATCH) lowerDues(lowered)
      }
    } finally {
      lowerDues(lowered)
    }
    if (deps.follower) return
    const due = deps.registry.dueEnvs(now)
    stats.due = due.length
    for (const envId of due) {
      if (stopped) return
      await runEnv(envId, now, stats)
      await breathe(stats, 'close')
      if (pending.size >= DUE_BATCH) {
        flush()
        await breathe(stats, 'registry write')
      }
    }
  }

  async function runKicked(envId: string, job: EnvJob, entry: { started: boolean; again: boolean }) {
    const kickedAt = deps.clock.now()
    await new Promise((resolve) => setTimeout(resolve, 0))
    entry.started = true
    do {
      entry.again = false
      if (stopped) return
      const lease = leaseFor(envId, deps.clock.now())
      if (!lease) return
      try {
        await runJob(job, lease.ctx, kickedAt)
      } finally {
        lease.release()
      }
    } while (entry.again)
  }

  function kick(envId: string, jobName: string) {
    if (stopped) return
    const job = deps.jobs.find((j) => j.name === jobName)
    if (!job) return
    const { follower } = deps
    if (follower) {
      setTimeout(() => follower.forward(envId, jobName), 0)
      return
    }
    const key = `${envId}/${jobName}`
    const queued = kicks.get(key)
    if (queued) {
      if (queued.started) queued.again = true
      return
    }
    const entry = { started: false, again: false, done: Promise.resolve() }
    entry.done = runKicked(envId, job, entry)
      .catch((err) => deps.log.error({ err, job: job.name, env_id: envId }, 'job failed'))
      .finally(() => kicks.delete(key))
    kicks.set(key, entry)
  }

  async function idle() {
    while (running || kicks.size) {
      await Promise.allSettled([running, ...[...kicks.values()].map((k) => k.done)])
    }
  }

  /** A tick never rejects: whatever it throws is logged, and the next one is scheduled. */
  const guarded = () =>
    tick().catch((err) => {
      deps.log.error({ err }, 'scheduler tick failed')
    })

  function schedule() {
    if (stopped) return
    timer = timers.set(() => {
      timer = null
      running = guarded().finally(() => {
        running = null
        schedule()
      })
    }, deps.intervalMs)
  }

  return {
    start() {
      stopped = false
      schedule()
    },
    async tick() {
      await (running ?? Promise.resolve())
      running = tick()
      try {
        await running
      } finally {
        running = null
      }
    },
    kick,
    beforeClose(ctx, changed) {
      if (changed) refresh(ctx, deps.clock.now())
    },
    idle,
    async stop() {
      stopped = true
      if (timer !== null) timers.clear(timer)
      timer = null
      await idle()
    },
  }
}
