#!/usr/bin/env bun
import { availableParallelism } from 'node:os'
import { type Args, parseArgs } from './cli/args'
import { envCommand, keysCommand, type Output, secretKeysCommand } from './cli/commands'
import { type BindRole, listen, PortInUseError } from './cli/listen'
import { backupCommand, replicationCommand, restoreCommand } from './cli/ops'
import { joinGroup, startWorkers, type WorkerGroup } from './cli/workers'
import { loadConfig } from './config'
import { createLogging, silentAccess, silentLogger } from './log'
import { checkReplicaTemplate, createReplicator, ReplicationError, type Replicator } from './ops/replication'
import { createRuntime, type Runtime } from './runtime'
import type { EnvType } from './tenancy/context'
import { publishableKey } from './tenancy/env-store'
import { checkEnvironments, createEnvironment, EnvironmentError, syncRegistry } from './tenancy/environments'
import { EnvUnavailableError } from './tenancy/pool'
import { joinRoot, lockRoot, RootLockedError } from './tenancy/root-lock'

const USAGE = `authn: self-hostable authentication server

usage: authn <command> [--data DIR] [--json]
  serve [--port N] [--workers N] [--replicate URL]
                                          run the server (creates a development env on an empty data dir);
                                          --replicate (or AUTHN_REPLICA_URL): Litestream to URL, e.g. file:///backups/{env_id}
  env create --name NAME [--type development|production] [--host HOST]... [--alg RS256|ES256|EdDSA]
  env create --count N --name NAME [--host 'tenant-{n}.example.com']...   many at once (bulk path)
  env list | env show ID | env delete ID
  secret-keys create|list --env ID | secret-keys revoke KEY_ID --env ID
  keys rotate --env ID [--alg ALG] [--immediate]
  backup --env ID|--all --out DIR         consistent copies of env folders (safe while the server runs)
  restore --env ID --from URL [--timestamp ISO8601]   an env from its Litestream replica (and its keys)
  replication status [--replicate URL]    how far each env's replica is behind

--data defaults to $AUTHN_DATA_DIR or ./tenants; --port to $PORT or 3000; --workers (server
processes sharing the port) to $AUTHN_WORKERS or the number of CPUs.`

const BOOLEAN_FLAGS = new Set(['json', 'immediate', 'help', 'all'])

function output(json: boolean): Output {
  return {
    json,
    print: (value, human) => console.log(json ? JSON.stringify(value) : human()),
  }
}

/** The longest a SIGTERM drain may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 25_000

/** Envs named one by one in the start-up banner; `authn env list` shows them all. */
const BANNER_ENVS = 10

/**
 * This server's hold on the data root: its own lock (alone, or leading a group of workers), or
 * its leader's (a member, started by the leader with the group token).
 */
function holdRoot(rt: Runtime): { role: BindRole; group: string; release(): void } {
  try {
    if (rt.config.serveGroup) {
      joinRoot(rt.config.dataDir, rt.config.serveGroup)
      return { role: 'member', group: rt.config.serveGroup, release() {} }
    }
    const lock = lockRoot(rt.config.dataDir, rt.clock.now())
    const role = (rt.config.workers ?? 1) > 1 ? 'leader' : 'alone'
    return { role, group: lock.holder.group, release: () => lock.release() }
  } catch (err) {
    if (err instanceof RootLockedError) throw new EnvironmentError(err.message)
    throw err
  }
}

async function serve(rt: Runtime, args: Args) {
  const port = args.has('port') ? Number(args.get('port')) : rt.config.port
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EnvironmentError('--port must be 0-65535')
  const replicate = args.get('replicate') ?? rt.config.replicaUrl
  if (replicate !== undefined) {
    try {
      checkReplicaTemplate(replicate)
    } catch (err) {
      if (err instanceof ReplicationError) throw new EnvironmentError(err.message)
      throw err
    }
  }
  const root = holdRoot(rt)
  const { rebuilt, envs, problems } = syncRegistry(rt.tenancy)
  if (rebuilt) rt.log.info({ envs }, 'registry updated from env folders')
  for (const p of problems) rt.log.error({ env_id: p.id, problem: p.problem }, 'env folder skipped')
  // Logged (by the pool) and answered with 503 environment_unavailable; every other env is served.
  const unavailable = checkEnvironments(rt.tenancy)

  const banner: string[] = []
  if (envs === 0) {
    const env = await createEnvironment(rt.tenancy, {
      name: 'Development',
      type: 'development',
      hosts: ['localhost'],
    })
    banner.push(
      `created development environment ${env.id} on an empty data directory (${rt.config.dataDir})`,
      `  publishable key  ${env.publishable_key}`,
      `  secret key       ${env.secret_key}   (shown once; only its hash is kept)`,
    )
  }
  let bun: ReturnType<typeof listen>
  try {
    bun = listen(
      {
        port,
        hostname: rt.config.hostname,
        // The server's own cap with an error envelope is maxBodyBytes; this only guards memory.
        maxRequestBodySize: Math.max(rt.config.maxBodyBytes * 4, 16 * 1024 * 1024),
        development: false,
        fetch: (request, server) => rt.server.handle(request, server.requestIP(request)?.address ?? null),
      },
      root.role,
    )
  } catch (err) {
    root.release()
    if (err instanceof PortInUseError) throw new EnvironmentError(err.message)
    throw err
  }
  rt.setLocalPort(bun.port ?? port)
  let workers: WorkerGroup | null = null
  if (root.role === 'leader') {
    workers = startWorkers({
      count: rt.config.workers ?? 1,
      port: bun.port ?? port,
      dataDir: rt.config.dataDir,
      group: root.group,
      log: rt.log,
      onKick: (envId, job) => rt.scheduler.kick(envId, job),
    })
    try {
      await workers.ready
    } catch (err) {
      await workers.stop()
      await bun.stop(true)
      root.release()
      throw new EnvironmentError((err as Error).message)
    }
  }
  // From the index, without opening the envs: a root may hold thousands.
  const listed = rt.registry.list()
  for (const e of listed.slice(0, BANNER_ENVS)) {
    const hosts = rt.registry.hostsOf(e.id)
    banner.push(`env ${e.id} (${e.type}, ${e.name})`)
    for (const host of hosts) banner.push(`  frontend API     http://${host}:${bun.port}`)
    if (hosts[0]) banner.push(`  publishable key  ${publishableKey(e.type as EnvType, hosts[0])}`)
  }
  if (listed.length > BANNER_ENVS) banner.push(`... and ${listed.length - BANNER_ENVS} more (authn env list)`)
  for (const u of unavailable) banner.push(`env ${u.id} UNAVAILABLE (answers 503): ${u.reason}`)
  for (const p of problems) banner.push(`folder ${p.id} SKIPPED: ${p.problem}`)
  if (workers) banner.push(`${rt.config.workers} server processes share the port (--workers)`)
  banner.push(
    `authn listening on http://localhost:${bun.port}  (API reference: http://localhost:${bun.port}/docs)`,
  )
  let replicator: Replicator | null = null
  // One Litestream per data root: the leader's (a member's would copy the same files again).
  if (replicate !== undefined && root.role !== 'member') {
    const r = createReplicator({
      dataDir: rt.config.dataDir,
      template: replicate,
      envIds: () => rt.registry.list().map((e) => e.id),
      log: rt.log,
      backupKey: rt.config.backupKey,
    })
    replicator = r
    rt.setReplication(() => r.status())
    r.start()
    banner.push(`replicating every environment with Litestream to ${replicate}`)
  }
  // A member's banner would repeat its leader's.
  if (root.role !== 'member') console.log(banner.join('\n'))
  rt.scheduler.start()

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    const started = performance.now()
    // Past this, whatever is still running is abandoned (an orchestrator kills at ~30 s anyway).
    const force = setTimeout(() => {
      rt.log.error({ in_flight: rt.server.inFlight }, 'shutdown took too long: exiting with work in flight')
      rt.log.flush()
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    force.unref()
    rt.log.info({ signal, in_flight: rt.server.inFlight }, 'shutting down: draining requests')
    // /readyz answers 503 from now on; the listener closes (no new connections), requests in
    // flight finish, and any that still arrive on an open connection get a 503 to retry.
    rt.drain()
    // Members drain beside the leader; the root stays locked until they are gone.
    const members = workers?.stop()
    const listener = bun.stop(false)
    rt.server.refuseNew()
    // Jobs stop between iterations (a running one finishes on the handle it leased).
    await rt.scheduler.stop()
    await rt.server.idle()
    // Post-commit effects (messages) and the jobs they kick finish before the handles close.
    await rt.idle()
    await listener
    await members
    rt.close()
    // After the handles closed: Litestream ships what they wrote last, then stops.
    await replicator?.stop()
    root.release()
    clearTimeout(force)
    rt.log.info({ ms: Math.round(performance.now() - started) }, 'stopped: every env handle closed')
    rt.log.flush()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  if (root.role === 'member') joinGroup((reason) => void shutdown(reason))
}

/** `--workers`, else AUTHN_WORKERS, else one per CPU. */
function workerCount(args: Args): number {
  const raw = args.get('workers') ?? process.env.AUTHN_WORKERS
  if (raw === undefined || raw === '') return availableParallelism()
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error('--workers must be 1-256')
  return n
}

export async function main(argv: string[]): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv, BOOLEAN_FLAGS)
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  const command = args.positionals[0]
  if (!command || args.has('help') || command === 'help') {
    console.log(USAGE)
    return command ? 0 : 2
  }
  let workers: number | undefined
  try {
    if (command === 'serve') workers = workerCount(args)
  } catch (err) {
    console.error(`error: ${(err as Error).message}`)
    return 2
  }
  const config = loadConfig(process.env, {
    ...(args.has('data') ? { dataDir: args.get('data')! } : {}),
    ...(workers ? { workers } : {}),
  })
  const logging =
    command === 'serve'
      ? createLogging(
          config.logLevel,
          undefined,
          (config.workers ?? 1) > 1 ? (config.workerIndex ?? 0) : undefined,
        )
      : { log: silentLogger, access: silentAccess }
  const rt = createRuntime(config, logging)
  const out = output(args.has('json'))
  try {
    switch (command) {
      case 'serve':
        await serve(rt, args)
        return -1
      case 'env':
        if (args.positionals[1] !== 'create') syncRegistry(rt.tenancy)
        await envCommand(rt, args, out)
        break
      case 'secret-keys':
        syncRegistry(rt.tenancy)
        secretKeysCommand(rt, args, out)
        break
      case 'keys':
        syncRegistry(rt.tenancy)
        await keysCommand(rt, args, out)
        break
      case 'backup':
        return backupCommand(rt, args, out)
      case 'restore':
        return await restoreCommand(rt, args, out)
      case 'replication':
        syncRegistry(rt.tenancy)
        return replicationCommand(rt, args, out)
      default:
        console.error(`unknown command ${command}\n\n${USAGE}`)
        return 2
    }
    return 0
  } catch (err) {
    const message =
      err instanceof EnvironmentError
        ? err.message
        : err instanceof EnvUnavailableError
          ? `environment ${err.envId} is unavailable: ${err.reason}`
          : null
    if (message !== null) {
      if (out.json) console.log(JSON.stringify({ error: message }))
      else console.error(`error: ${message}`)
      return 1
    }
    throw err
  } finally {
    if (command !== 'serve') rt.close()
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exit(code)
}
