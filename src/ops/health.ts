import { closeSync, fsyncSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { constantTimeEqual } from '../crypto/secrets'
import type { Metrics } from './metrics'

/** One readiness check's outcome. */
export interface Check {
  ok: boolean
  error?: string
}

/** What replication says about itself for /readyz (see src/ops/replication.ts). */
export interface ReplicationHealth {
  ok: boolean
  state: string
  error?: string
  restarts?: number
  pid?: number
  envs: Array<{ env_id: string; lag_seconds: number | null; position: string | null }>
}

export interface OpsDeps {
  dataDir: string
  /** Throws when the registry cannot be read (closed, or its file is gone bad). */
  pingRegistry(): void
  metrics: Metrics
  /** AUTHN_METRICS_TOKEN: when set, /metrics wants `Authorization: Bearer <token>`. */
  metricsToken?: string
  /** Null (or absent) when replication is not configured. */
  replication?: () => ReplicationHealth | null
  /** True once shutdown began: /readyz turns unready so balancers stop sending traffic. */
  draining?: () => boolean
}

export const OPS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics'])

const describe = (err: unknown) => {
  const e = err as NodeJS.ErrnoException
  return e?.code ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? err)
}

/**
 * Whether the data root takes a new file (what creating an env, a WAL or a key needs): a small
 * file written, synced and removed. Root writes through permission bits, so for root a data
 * root with no write bit at all also counts as read-only (the operator's intent).
 */
export function dataDirWritable(dataDir: string): Check {
  try {
    const st = statSync(dataDir)
    if (!st.isDirectory()) return { ok: false, error: `${dataDir} is not a directory` }
    if (process.getuid?.() === 0 && (st.mode & 0o222) === 0)
      return { ok: false, error: `${dataDir} is read-only (mode ${(st.mode & 0o777).toString(8)})` }
    const probe = join(dataDir, `.readyz-${process.pid}`)
    const fd = openSync(probe, 'w', 0o600)
    try {
      writeSync(fd, 'ok\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
      unlinkSync(probe)
    }
    return { ok: true }
  } catch (err) {
    return { ok: false, error: describe(err) }
  }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  })

/**
 * `/healthz`, `/readyz` and `/metrics`: answered on every host before the surface table is
 * consulted (they belong to no API surface and bind no env).
 */
export function createOpsEndpoints(deps: OpsDeps) {
  function readiness() {
    let registry: Check
    try {
      deps.pingRegistry()
      registry = { ok: true }
    } catch (err) {
      registry = { ok: false, error: describe(err) }
    }
    const checks: Record<string, unknown> = { data_dir: dataDirWritable(deps.dataDir), registry }
    const replication = deps.replication?.() ?? null
    if (replication) checks.replication = replication
    const draining = deps.draining?.() ?? false
    if (draining) checks.shutdown = { ok: false, error: 'the server is shutting down' }
    const ok = Object.values(checks).every((c) => (c as Check).ok)
    return json({ status: ok ? 'ready' : 'unready', checks }, ok ? 200 : 503)
  }

  async function metrics(request: Request) {
    if (deps.metricsToken) {
      const auth = request.headers.get('authorization') ?? ''
      const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : ''
      if (!given || !constantTimeEqual(given, deps.metricsToken))
        return new Response('metrics need Authorization: Bearer <AUTHN_METRICS_TOKEN>\n', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' },
        })
    }
    return new Response(await deps.metrics.render(), {
      headers: { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' },
    })
  }

  return {
    matches: (path: string) => OPS_PATHS.has(path),
    async handle(request: Request, path: string): Promise<Response> {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response('method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } })
      if (path === '/healthz') return json({ status: 'ok' })
      if (path === '/readyz') return readiness()
      return metrics(request)
    },
  }
}

export type OpsEndpoints = ReturnType<typeof createOpsEndpoints>
