import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { SigningAlgorithm } from '../crypto/keys'
import { isId } from '../lib/ids'
import { BackupError, backupAll, backupEnv } from '../ops/backup'
import {
  checkReplicaTemplate,
  ReplicationError,
  replicaGenerations,
  replicaUrl,
  restoreEnv,
} from '../ops/replication'
import type { Runtime } from '../runtime'
import {
  type CreatedEnvironment,
  createEnvironment,
  createEnvTemplate,
  EnvironmentError,
  syncRegistry,
} from '../tenancy/environments'
import type { Args } from './args'

/** How a command prints (commands.ts's Output, restated: commands.ts imports this module). */
interface Output {
  json: boolean
  print(value: unknown, human: () => string): void
}

/** `authn backup --env ENV_ID|--all --out DIR`: consistent copies of env folders, server running or not. */
export function backupCommand(rt: Runtime, args: Args, out: Output): number {
  const outDir = args.get('out')
  if (!outDir) throw new EnvironmentError('usage: backup --env ENV_ID|--all --out DIR')
  const envId = args.get('env')
  if (!envId === !args.has('all')) throw new EnvironmentError('backup needs either --env ENV_ID or --all')
  if (envId !== undefined) {
    if (!isId('environment', envId)) throw new EnvironmentError(`not an environment id: ${envId}`)
    try {
      const r = backupEnv(rt.config.dataDir, envId, outDir)
      out.print(r, () => `${r.env_id} → ${r.path} (${r.bytes} bytes, ${r.key_files} key files, ${r.ms} ms)`)
      return 0
    } catch (err) {
      if (err instanceof BackupError) throw new EnvironmentError(err.message)
      throw err
    }
  }
  const { done, failed } = backupAll(rt.config.dataDir, outDir)
  out.print({ backed_up: done, failed }, () =>
    [
      ...done.map((r) => `${r.env_id} → ${r.path} (${r.bytes} bytes, ${r.key_files} key files)`),
      ...failed.map((f) => `${f.env_id} FAILED: ${f.error}`),
      `${done.length} backed up, ${failed.length} failed`,
    ].join('\n'),
  )
  return failed.length ? 1 : 0
}

const replicationFailure = (err: unknown) => {
  if (err instanceof ReplicationError) return new EnvironmentError(err.message)
  return err
}

/** `authn restore --env ENV_ID --from URL [--timestamp ISO8601]`: an env folder back from its replica. */
export async function restoreCommand(rt: Runtime, args: Args, out: Output): Promise<number> {
  const envId = args.get('env')
  const from = args.get('from') ?? rt.config.replicaUrl
  if (!envId || !from)
    throw new EnvironmentError('usage: restore --env ENV_ID --from URL [--timestamp ISO8601] [--data DIR]')
  if (!isId('environment', envId)) throw new EnvironmentError(`not an environment id: ${envId}`)
  try {
    const r = await restoreEnv({
      dataDir: rt.config.dataDir,
      envId,
      from,
      timestamp: args.get('timestamp'),
      backupKey: rt.config.backupKey,
    })
    // The registry picks it up (a running server's sees the change too).
    syncRegistry(rt.tenancy)
    out.print(
      r,
      () => `restored ${r.env_id} into ${r.path} (${r.users} users, ${r.key_files} key files, ${r.ms} ms)`,
    )
    return 0
  } catch (err) {
    throw replicationFailure(err)
  }
}

/** `authn replication status`: each env's replica generations and how far behind it is. */
export function replicationCommand(rt: Runtime, args: Args, out: Output): number {
  if (args.positionals[1] !== 'status')
    throw new EnvironmentError('usage: replication status [--replicate URL]')
  const template = args.get('replicate') ?? rt.config.replicaUrl
  if (!template)
    throw new EnvironmentError('replication is not configured: pass --replicate URL or set AUTHN_REPLICA_URL')
  try {
    checkReplicaTemplate(template)
    const envs = rt.registry.list().map((e) => {
      const g = replicaGenerations(rt.config.dataDir, template, e.id)
      const latest = g.generations.at(-1) ?? null
      return {
        env_id: e.id,
        replica: replicaUrl(template, e.id),
        generation: latest?.generation ?? null,
        lag: latest?.lag ?? null,
        replicated_until: latest?.end ?? null,
        error: g.error ?? (latest ? null : 'no replica yet'),
      }
    })
    out.print(
      envs,
      () =>
        envs
          .map((e) =>
            e.error
              ? `${e.env_id}  ${e.error}`
              : `${e.env_id}  generation ${e.generation}  lag ${e.lag}  replicated until ${e.replicated_until}`,
          )
          .join('\n') || 'no environments',
    )
    return envs.some((e) => e.error) ? 1 : 0
  } catch (err) {
    throw replicationFailure(err)
  }
}

/**
 * `env create --count N --name NAME [--host 'tenant-{n}.example.com']…`: many envs at once from
 * a migrated template database (each with its own id, data key, signing keys and secret key).
 * `{n}` in a host is the env's number (1..N); without --host, development envs get their own
 * `*.localhost` host.
 */
export async function createManyCommand(rt: Runtime, args: Args, out: Output, algorithm?: SigningAlgorithm) {
  const count = Number(args.get('count'))
  if (!Number.isInteger(count) || count < 1 || count > 100_000)
    throw new EnvironmentError('--count must be a whole number from 1 to 100000')
  const name = args.get('name')
  if (!name) throw new EnvironmentError('--name is required')
  const type = args.get('type') ?? 'development'
  if (type !== 'development' && type !== 'production')
    throw new EnvironmentError('--type must be development or production')
  const hostPatterns = args.all('host')
  if (count > 1 && hostPatterns.some((h) => !h.includes('{n}')))
    throw new EnvironmentError("with --count, every --host needs {n} (e.g. 'tenant-{n}.example.com')")
  const template = join(rt.config.dataDir, `.env-template-${process.pid}.sqlite`)
  createEnvTemplate(template)
  const started = performance.now()
  const created: CreatedEnvironment[] = []
  try {
    for (let n = 1; n <= count; n++) {
      created.push(
        await createEnvironment(rt.tenancy, {
          name: count > 1 ? `${name} ${n}` : name,
          type,
          hosts: hostPatterns.map((h) => h.replaceAll('{n}', String(n))),
          algorithm,
          template,
        }),
      )
    }
  } finally {
    rmSync(template, { force: true })
  }
  const ms = Math.round(performance.now() - started)
  out.print(
    created.map((e) => ({
      id: e.id,
      name: e.name,
      type: e.type,
      hosts: e.hosts,
      frontend_api: e.frontend_api,
      publishable_key: e.publishable_key,
      secret_key: e.secret_key,
    })),
    () =>
      [
        ...created.map((e) => `${e.id}  ${e.hosts.join(',')}  ${e.secret_key}`),
        `created ${created.length} environments in ${ms} ms (secret keys shown once)`,
      ].join('\n'),
  )
}
