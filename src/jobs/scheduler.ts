import type { Clock } from '../lib/clock'
import type { Logger } from '../log'
import type { EnvContext } from '../tenancy/context'
import type { EnvPool } from '../tenancy/pool'
import type { Registry } from '../tenancy/registry'

/** A unit of background work run for every env on each tick (expiry, delivery, pruning). */
export interface EnvJob {
  name: string
  run(ctx: EnvContext): void | Promise<void>
}

export interface Scheduler {
  start(): void
  /** One pass of every job over every env; tests call it with a fixed clock. */
  tick(): Promise<void>
  /**
   * Runs one job for one env soon (after the current synchronous transaction has committed),
   * without waiting for the next tick: e.g. webhook delivery right after an event. Kicks while
   * the job is already queued coalesce; a kick while it runs makes it run once more.
   */
  kick(envId: string, jobName: string): void
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

export function createScheduler(deps: {
  jobs: EnvJob[]
  pool: EnvPool
  registry: Registry
  clock: Clock
  log: Logger
  intervalMs: number
  /** Defaults to setTimeout (unref'd). */
  timers?: Timers
}): Scheduler {
  const timers = deps.timers ?? systemTimers
  let timer: unknown = null
  let running: Promise<void> | null = null
  let stopped = false
  const kicks = new Map<string, { started: boolean; again: boolean; done: Promise<void> }>()

  async function tick() {
    for (const env of deps.registry.list()) {
      if (stopped) return
      const lease = deps.pool.lease(env.id)
      if (!lease) continue
      try {
        for (const job of deps.jobs) {
          try {
            await job.run(lease.ctx)
          } catch (err) {
            deps.log.error({ err, job: job.name, env_id: env.id }, 'job failed')
          }
        }
      } finally {
        lease.release()
      }
    }
  }

  async function runKicked(envId: string, job: EnvJob, entry: { started: boolean; again: boolean }) {
    await new Promise((resolve) => setTimeout(resolve, 0))
    entry.started = true
    do {
      entry.again = false
      if (stopped) return
      const lease = deps.pool.lease(envId)
      if (!lease) return
      try {
        await job.run(lease.ctx)
      } catch (err) {
        deps.log.error({ err, job: job.name, env_id: envId }, 'job failed')
      } finally {
        lease.release()
      }
    } while (entry.again)
  }

  function kick(envId: string, jobName: string) {
    if (stopped) return
    const job = deps.jobs.find((j) => j.name === jobName)
    if (!job) return
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

  function schedule() {
    if (stopped) return
    timer = timers.set(() => {
      timer = null
      running = tick().finally(() => {
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
    idle,
    async stop() {
      stopped = true
      if (timer !== null) timers.clear(timer)
      timer = null
      await idle()
    },
  }
}
