import { isId } from '../lib/ids'
import { BackupError, backupAll, backupEnv } from '../ops/backup'
import type { Runtime } from '../runtime'
import { EnvironmentError } from '../tenancy/environments'
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
