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
import { EnvironmentError, syncRegistry } from '../tenancy/environments'
import type { Args } from './args'
import type { Output } from './commands'

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
