import { mkdirSync } from 'node:fs'
import type { Config } from './config'
import { createPasswordHasher, type PasswordHasher } from './crypto/passwords'
import { createEnvJobs } from './jobs'
import { createScheduler, type Scheduler } from './jobs/scheduler'
import { type Clock, systemClock } from './lib/clock'
import { createDelivery, type Delivery } from './lib/delivery'
import { createTxtResolver } from './lib/dns'
import { createEffects, type Effects } from './lib/effects'
import { type AccessLog, type Logger, silentAccess } from './log'
import { createServer, type Server } from './server'
import type { TenancyDeps } from './tenancy/environments'
import { createEnvPool, type EnvPool } from './tenancy/pool'
import { openRegistry, type Registry } from './tenancy/registry'

/** Everything one process owns for a data root, wired together. */
export interface Runtime {
  config: Config
  registry: Registry
  pool: EnvPool
  clock: Clock
  log: Logger
  passwords: PasswordHasher
  server: Server
  scheduler: Scheduler
  /** Post-commit effects in flight, across every env (see withTx). */
  effects: Effects
  tenancy: TenancyDeps
  /**
   * Resolves once no post-commit effect, kicked job or tick is running or queued, including
   * work that those start while it waits. Tests await it instead of sleeping.
   */
  idle(): Promise<void>
  /** Once the server is bound: the port local frontend hosts' URLs carry. */
  setLocalPort(port: number): void
  close(): void
}

export function createRuntime(
  config: Config,
  opts: { log: Logger; access?: AccessLog; clock?: Clock; passwords?: PasswordHasher; delivery?: Delivery },
): Runtime {
  const clock = opts.clock ?? systemClock
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const registry = openRegistry(config.dataDir, clock)
  const passwords = opts.passwords ?? createPasswordHasher({ concurrency: config.passwordHashConcurrency })
  let localPort = config.port
  const delivery = opts.delivery ?? createDelivery(config)
  const effects = createEffects()
  const pool = createEnvPool({
    dataDir: config.dataDir,
    clock,
    log: opts.log,
    passwords,
    delivery,
    dns: createTxtResolver(config.dnsServer),
    maxOpen: config.maxOpenEnvs,
    localPort: () => localPort,
    // The scheduler is built below; kicks only happen once requests or jobs run.
    kick: (envId, job) => scheduler.kick(envId, job),
    effects,
  })
  const server = createServer({
    registry,
    pool,
    clock,
    log: opts.log,
    access: opts.access ?? silentAccess,
    maxBodyBytes: config.maxBodyBytes,
    rateLimits: config.rateLimits,
  })
  const scheduler = createScheduler({
    jobs: createEnvJobs(config),
    pool,
    registry,
    clock,
    log: opts.log,
    intervalMs: config.jobIntervalMs,
  })
  return {
    config,
    registry,
    pool,
    clock,
    log: opts.log,
    passwords,
    server,
    scheduler,
    effects,
    async idle() {
      // An effect may kick a job and a job may commit with effects: wait until both are quiet.
      do {
        await effects.idle()
        await scheduler.idle()
      } while (effects.pending() > 0)
    },
    tenancy: { dataDir: config.dataDir, registry, pool, clock },
    setLocalPort(port) {
      localPort = port
    },
    close() {
      // Refuses new kicks at once; work in progress finishes on the handles it leased.
      void scheduler.stop()
      pool.closeAll()
      registry.close()
    },
  }
}
