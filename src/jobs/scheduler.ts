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
  /** Stops ticking and waits for a pass in progress to finish. */
  stop(): Promise<void>
}

export function createScheduler(deps: {
  jobs: EnvJob[]
  pool: EnvPool
  registry: Registry
  clock: Clock
  log: Logger
  intervalMs: number
}): Scheduler {
  let timer: ReturnType<typeof setTimeout> | null = null
  let running: Promise<void> | null = null
  let stopped = false

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

  function schedule() {
    if (stopped) return
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = null
        schedule()
      })
    }, deps.intervalMs)
    timer.unref?.()
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
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
