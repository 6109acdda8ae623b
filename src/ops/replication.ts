import { Database } from 'bun:sqlite'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { scryptSync } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type DataKey, seal, unseal } from '../crypto/seal'
import type { Logger } from '../log'
import { envDbFile, envDir, envKeysDir } from '../tenancy/paths'
import type { ReplicationHealth } from './health'

export class ReplicationError extends Error {
  override name = 'ReplicationError'
}

/** The replica URL of one env: the template's `{env_id}` filled in (appended when absent). */
export function replicaUrl(template: string, envId: string): string {
  if (template.includes('{env_id}')) return template.replaceAll('{env_id}', envId)
  return `${template.replace(/\/+$/, '')}/${envId}`
}

function checkUrl(url: string) {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new ReplicationError(`not a replica URL: ${url}`)
  }
  if (u.protocol !== 'file:' && u.protocol !== 's3:')
    throw new ReplicationError(`replica URLs are file:// or s3://, not ${u.protocol}//`)
  return u
}

/** Checks a template (AUTHN_REPLICA_URL, --replicate) once, up front. */
export function checkReplicaTemplate(template: string) {
  checkUrl(replicaUrl(template, 'env_check'))
}

/**
 * The Litestream binary that `@flydotio/litestream-linux-x64` installed (Linux x64), or (the
 * compiled binary in the container image, which has no node_modules) `litestream` on the PATH.
 */
export function litestreamBinary(): string {
  const require = createRequire(import.meta.url)
  const pkg = `@flydotio/litestream-${process.platform}-${process.arch}/package.json`
  try {
    return join(dirname(require.resolve(pkg)), 'litestream')
  } catch {
    const onPath = Bun.which('litestream')
    if (onPath) return onPath
    throw new ReplicationError(
      `the Litestream binary for ${process.platform}-${process.arch} is not installed (npm package ${pkg.replace('/package.json', '')})`,
    )
  }
}

/** Litestream's configuration: every env's database, each to its own replica. */
export function litestreamConfig(dataDir: string, template: string, envIds: readonly string[]): string {
  const lines = ['# Written by authn serve --replicate; regenerated when environments change.', 'dbs:']
  for (const id of envIds) {
    lines.push(
      `  - path: ${JSON.stringify(resolve(envDbFile(envDir(dataDir, id))))}`,
      '    replicas:',
      `      - url: ${JSON.stringify(replicaUrl(template, id))}`,
      '        sync-interval: 1s',
    )
  }
  if (!envIds.length) lines[1] = 'dbs: []'
  return `${lines.join('\n')}\n`
}

/** AUTHN_BACKUP_KEY as an AES-256-GCM key (scrypt: the setting may be a passphrase). */
export const backupSealKey = (secret: string): DataKey => ({
  key: scryptSync(secret, 'authn backup keys v1', 32),
})

const SEALED = '.sealed'

/** Where an env's key files go beside its database replica: `<replica>/authn-keys/`. */
interface KeyTarget {
  list(): Promise<string[]>
  write(name: string, content: string): Promise<void>
  read(name: string): Promise<string>
}

function keyTarget(url: string): KeyTarget {
  const u = checkUrl(url)
  if (u.protocol === 'file:') {
    const dir = join(fileURLToPath(u), 'authn-keys')
    return {
      list: async () => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : []),
      async write(name, content) {
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        const tmp = join(dir, `.${name}.${process.pid}`)
        writeFileSync(tmp, content, { mode: 0o600 })
        renameSync(tmp, join(dir, name))
      },
      read: async (name) => readFileSync(join(dir, name), 'utf8'),
    }
  }
  // s3://bucket/prefix: Bun's S3 client, credentials and endpoint from the usual S3 variables.
  const client = new Bun.S3Client({ bucket: u.hostname })
  const prefix = `${u.pathname.replace(/^\/+|\/+$/g, '')}/authn-keys/`
  return {
    async list() {
      const listed = await client.list({ prefix })
      return (listed.contents ?? []).map((o) => o.key.slice(prefix.length)).filter(Boolean)
    },
    async write(name, content) {
      await client.write(`${prefix}${name}`, content)
    },
    read: (name) => client.file(`${prefix}${name}`).text(),
  }
}

/**
 * Copies an env's key files that are new or changed since `seen` to its replica (sealed with
 * the backup key when there is one). Files are never deleted there: a point-in-time restore may
 * need a key that has since been pruned.
 */
export async function syncKeys(
  dataDir: string,
  envId: string,
  url: string,
  sealKey: DataKey | null,
  seen: Map<string, number>,
): Promise<number> {
  const dir = envKeysDir(envDir(dataDir, envId))
  if (!existsSync(dir)) return 0
  const target = keyTarget(url)
  let copied = 0
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue
    const path = join(dir, name)
    let mtime: number
    try {
      mtime = statSync(path).mtimeMs
    } catch {
      continue // pruned meanwhile
    }
    const key = `${envId}/${name}`
    if (seen.get(key) === mtime) continue
    const content = readFileSync(path, 'utf8')
    if (sealKey) await target.write(`${name}${SEALED}`, seal(sealKey, content, name))
    else await target.write(name, content)
    seen.set(key, mtime)
    copied++
  }
  return copied
}

/** Reads an env's key files back from its replica into `keysDir`. */
async function restoreKeys(url: string, keysDir: string, sealKey: DataKey | null): Promise<number> {
  const target = keyTarget(url)
  mkdirSync(keysDir, { recursive: true, mode: 0o700 })
  chmodSync(keysDir, 0o700)
  let n = 0
  for (const stored of await target.list()) {
    const sealed = stored.endsWith(SEALED)
    const name = sealed ? stored.slice(0, -SEALED.length) : stored
    let content = await target.read(stored)
    if (sealed) {
      if (!sealKey)
        throw new ReplicationError(`the key files at ${url} are sealed: set AUTHN_BACKUP_KEY to restore them`)
      try {
        content = unseal(sealKey, content, name)
      } catch {
        throw new ReplicationError(`AUTHN_BACKUP_KEY does not open the key files at ${url}`)
      }
    }
    writeFileSync(join(keysDir, name), content, { mode: 0o600 })
    n++
  }
  if (!existsSync(join(keysDir, 'data.key')))
    throw new ReplicationError(`no key files at ${url}: a database without its keys is not a restore`)
  return n
}

export interface RestoreResult {
  env_id: string
  path: string
  key_files: number
  users: number
  ms: number
}

/**
 * `authn restore`: the env's database from its Litestream replica (as of `timestamp` when
 * given) and its key files, built under a hidden name, checked and renamed into the data root,
 * where the registry picks it up.
 */
export async function restoreEnv(opts: {
  dataDir: string
  envId: string
  from: string
  timestamp?: string
  backupKey?: string
}): Promise<RestoreResult> {
  const started = performance.now()
  const url = replicaUrl(opts.from, opts.envId)
  checkUrl(url)
  if (opts.timestamp !== undefined && Number.isNaN(Date.parse(opts.timestamp)))
    throw new ReplicationError(`--timestamp must be an ISO 8601 time, e.g. 2026-01-02T15:04:05Z`)
  const target = envDir(opts.dataDir, opts.envId)
  if (existsSync(target))
    throw new ReplicationError(`${target} already exists: delete it or restore into another --data`)
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
  const partial = join(opts.dataDir, `.${opts.envId}.restore-${process.pid}`)
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { mode: 0o700 })
  try {
    const args = ['restore', '-o', envDbFile(partial)]
    if (opts.timestamp !== undefined)
      args.push('-timestamp', new Date(opts.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'))
    args.push(url)
    const r = spawnSync(litestreamBinary(), args, { encoding: 'utf8', timeout: 10 * 60_000 })
    if (r.status !== 0)
      throw new ReplicationError(
        `litestream restore failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`,
      )
    if (!existsSync(envDbFile(partial))) throw new ReplicationError(`nothing to restore at ${url}`)
    const keyFiles = await restoreKeys(
      url,
      envKeysDir(partial),
      opts.backupKey ? backupSealKey(opts.backupKey) : null,
    )
    const db = new Database(envDbFile(partial))
    let users = 0
    try {
      const check = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()
      if (check?.integrity_check !== 'ok')
        throw new ReplicationError(`the restored database fails integrity_check`)
      const row = db.query<{ id: string }, []>('SELECT id FROM environment LIMIT 1').get()
      if (row?.id !== opts.envId)
        throw new ReplicationError(`the replica at ${url} holds ${row?.id ?? 'no environment'}`)
      users = db.query<{ n: number }, []>('SELECT count(*) AS n FROM users').get()?.n ?? 0
    } finally {
      db.close()
    }
    renameSync(partial, target)
    return {
      env_id: opts.envId,
      path: target,
      key_files: keyFiles,
      users,
      ms: Math.round(performance.now() - started),
    }
  } catch (err) {
    rmSync(partial, { recursive: true, force: true })
    throw err
  }
}

/** One replica's generations as `litestream generations` reports them (lag: behind the database). */
export function replicaGenerations(dataDir: string, template: string, envId: string) {
  const config = join(dataDir, `.litestream-status-${process.pid}.yml`)
  writeFileSync(config, litestreamConfig(dataDir, template, [envId]), { mode: 0o600 })
  try {
    const r = spawnSync(
      litestreamBinary(),
      ['generations', '-config', config, resolve(envDbFile(envDir(dataDir, envId)))],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    if (r.status !== 0) return { error: (r.stderr || String(r.error)).trim(), generations: [] }
    const rows = r.stdout.trim().split('\n').slice(1)
    const generations = rows
      .map((row) => row.trim().split(/\s+/))
      .filter((c) => c.length >= 5)
      .map(([, generation, lag, start, end]) => ({
        generation: generation!,
        lag: lag!,
        start: start!,
        end: end!,
      }))
    return { error: null, generations }
  } finally {
    rmSync(config, { force: true })
  }
}

interface EnvPosition {
  position: string
  at: number
}

/** `key=value key="quoted value"` pairs of one Litestream log line. */
function logfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of line.matchAll(/(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const raw = m[2]!
    out[m[1]!] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw
  }
  return out
}

/** Restart waits after the child dies: 1 s, doubling, at most 30 s. */
const RESTART_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000]

export interface Replicator {
  start(): void
  /** Regenerates the config from the env list and restarts the child when it changed; copies new key files. */
  refresh(): Promise<void>
  status(): ReplicationHealth
  stop(): Promise<void>
}

/**
 * Supervises one `litestream replicate` child over every env's database. The config is
 * regenerated (and the child restarted) when the env list changes, the child is restarted when
 * it dies, key files are copied beside each replica, and the child's log tells how far each
 * database has been replicated.
 */
export function createReplicator(deps: {
  dataDir: string
  template: string
  /** The envs to replicate (the registry's served envs). */
  envIds: () => string[]
  log: Logger
  backupKey?: string
  /** How often the env list and key folders are looked at (ms). */
  intervalMs?: number
  now?: () => number
}): Replicator {
  const now = deps.now ?? Date.now
  const configPath = join(deps.dataDir, '.litestream.yml')
  const sealKey = deps.backupKey ? backupSealKey(deps.backupKey) : null
  const binary = litestreamBinary()
  const seenKeys = new Map<string, number>()
  const positions = new Map<string, EnvPosition>()
  const byPath = new Map<string, string>()
  let config = ''
  let envIds: string[] = []
  let child: ChildProcess | null = null
  let state: 'starting' | 'running' | 'restarting' | 'stopped' = 'stopped'
  let stopping = false
  let failures = 0
  let restarts = 0
  let lastError: { message: string; at: number } | null = null
  let timer: ReturnType<typeof setInterval> | null = null
  let restartTimer: ReturnType<typeof setTimeout> | null = null
  let refreshing: Promise<void> | null = null

  function onLine(line: string) {
    const f = logfmt(line)
    const env = f.db ? byPath.get(f.db) : undefined
    if (f.level === 'ERROR') {
      lastError = { message: `${f.msg ?? line}${f.error ? `: ${f.error}` : ''}`, at: now() }
      deps.log.warn({ env_id: env, litestream: f.msg, error: f.error }, 'litestream error')
    }
    if (env && f.position && (f.msg === 'wal segment written' || f.msg === 'snapshot written')) {
      positions.set(env, { position: f.position, at: now() })
      if (state === 'starting') state = 'running'
      failures = 0
    }
    if (f.msg === 'replicating to' && state === 'starting') state = 'running'
  }

  function spawnChild() {
    if (stopping) return
    state = 'starting'
    const proc = spawn(binary, ['replicate', '-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    deps.log.info({ pid: proc.pid, envs: envIds.length }, 'litestream started')
    let buffered = ''
    const read = (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      let nl = buffered.indexOf('\n')
      while (nl !== -1) {
        onLine(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
      }
    }
    proc.stdout?.on('data', read)
    proc.stderr?.on('data', read)
    proc.on('exit', (code, signal) => {
      if (child !== proc) return
      child = null
      if (stopping) {
        state = 'stopped'
        return
      }
      const wait = RESTART_MS[Math.min(failures, RESTART_MS.length - 1)]!
      failures++
      restarts++
      state = 'restarting'
      lastError = { message: `litestream exited (code ${code}, signal ${signal})`, at: now() }
      deps.log.error({ code, signal, restart_in_ms: wait }, 'litestream exited: restarting')
      restartTimer = setTimeout(() => {
        restartTimer = null
        spawnChild()
      }, wait)
    })
  }

  function stopChild(): Promise<void> {
    const proc = child
    if (!proc) return Promise.resolve()
    child = null
    return new Promise<void>((done) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      proc.once('exit', () => {
        clearTimeout(kill)
        done()
      })
      proc.kill('SIGTERM')
    })
  }

  async function refreshOnce() {
    const ids = deps.envIds()
    const next = litestreamConfig(deps.dataDir, deps.template, ids)
    if (next !== config || (!child && state !== 'restarting')) {
      const changed = config !== '' && next !== config
      config = next
      envIds = ids
      byPath.clear()
      for (const id of ids) byPath.set(resolve(envDbFile(envDir(deps.dataDir, id))), id)
      for (const id of positions.keys()) if (!ids.includes(id)) positions.delete(id)
      writeFileSync(configPath, next, { mode: 0o600 })
      if (changed) deps.log.info({ envs: ids.length }, 'environments changed: restarting litestream')
      await stopChild()
      spawnChild()
    }
    await copyKeys(ids)
  }

  async function copyKeys(ids: string[]) {
    for (const id of ids) {
      try {
        await syncKeys(deps.dataDir, id, replicaUrl(deps.template, id), sealKey, seenKeys)
      } catch (err) {
        lastError = { message: `copying the keys of ${id}: ${(err as Error).message}`, at: now() }
        deps.log.error({ err, env_id: id }, 'copying key files to the replica failed')
      }
    }
  }

  const refresh = () => {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = null
    })
    return refreshing
  }

  return {
    start() {
      stopping = false
      void refresh()
      timer = setInterval(() => void refresh(), deps.intervalMs ?? 2_000)
      timer.unref?.()
    },
    refresh,
    status() {
      const t = now()
      const recentError = lastError !== null && t - lastError.at < 60_000
      const envs = envIds.map((id) => {
        const p = positions.get(id)
        let lag: number | null = null
        if (p) {
          // Behind when the WAL changed after the last segment went out (Litestream's own
          // bookkeeping writes land just before it).
          let wal = 0
          try {
            wal = statSync(`${envDbFile(envDir(deps.dataDir, id))}-wal`).mtimeMs
          } catch {}
          lag = wal > p.at + 1_500 ? Math.round((t - p.at) / 100) / 10 : 0
        }
        return { env_id: id, position: p?.position ?? null, lag_seconds: lag }
      })
      return {
        ok: state === 'running' && !recentError,
        state,
        ...(recentError ? { error: lastError!.message } : {}),
        restarts,
        ...(child?.pid ? { pid: child.pid } : {}),
        envs,
      }
    },
    async stop() {
      stopping = true
      if (timer) clearInterval(timer)
      if (restartTimer) clearTimeout(restartTimer)
      timer = null
      await refreshing
      // Key files made since the last look (a rotation just before the signal).
      await copyKeys(envIds)
      await stopChild()
      state = 'stopped'
      deps.log.info('litestream stopped')
    },
  }
}
