import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Config, loadConfig } from '../../src/config'
import type { SigningAlgorithm } from '../../src/crypto/keys'
import { createPasswordHasher } from '../../src/crypto/passwords'
import { fixedClock } from '../../src/lib/clock'
import { type Delivery, noDelivery } from '../../src/lib/delivery'
import { silentLogger } from '../../src/log'
import { createRuntime, type Runtime } from '../../src/runtime'
import type { EnvContext, EnvType } from '../../src/tenancy/context'
import { createEnvironment } from '../../src/tenancy/environments'
import { fixtureKeys } from './keys'

export interface TestEnv {
  id: string
  host: string
  secretKey: string
  publishableKey: string
}

export interface EnvSeed {
  name?: string
  type?: EnvType
  host?: string
  algorithm?: SigningAlgorithm
}

type Body = Record<string, unknown> | unknown[] | string | undefined

export interface Harness {
  readonly rt: Runtime
  clock: ReturnType<typeof fixedClock>
  dir: string
  envs: TestEnv[]
  env: TestEnv
  /** A raw request through the dispatcher, as Bun.serve would hand it over. */
  request(url: string, init?: RequestInit): Promise<Response>
  /** Backend API call with the env's secret key; objects are sent as JSON. */
  bapi(
    method: string,
    path: string,
    body?: Body,
    opts?: { env?: TestEnv; headers?: Record<string, string> },
  ): Promise<Response>
  /** Frontend API call on the env's host. */
  fapi(
    method: string,
    path: string,
    body?: Body,
    opts?: { env?: TestEnv; headers?: Record<string, string> },
  ): Promise<Response>
  /**
   * Waits until the work a request left running has finished: post-commit effects (message
   * delivery) and the jobs they or the commit kicked (webhook delivery). Never a sleep.
   */
  settle(): Promise<void>
  /** Runs fn against the env's context (for assertions on stored state). */
  ctx<T>(fn: (ctx: EnvContext) => T, env?: TestEnv): T
  addEnv(seed?: EnvSeed): Promise<TestEnv>
  /** Closes the runtime and builds a new one on the same data root and clock (a process restart). */
  restart(): Promise<void>
  close(): void
}

let counter = 0

/**
 * A runtime over a fresh temp data root with a fixed clock and cheap password hashing; no port
 * is opened. Every env answers on a realistic host name (Elysia needs one, style-anchors §4.1.13).
 */
export async function createHarness(
  opts: {
    envs?: EnvSeed[]
    now?: string
    rateLimits?: boolean
    delivery?: Delivery
    config?: Partial<Config>
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'authn-test-'))
  const clock = fixedClock(opts.now ?? '2026-01-01T00:00:00Z')
  const config = loadConfig(
    {},
    {
      rateLimits: opts.rateLimits ?? false,
      ...opts.config,
      dataDir: dir,
      logLevel: 'silent',
    },
  )
  const passwords = createPasswordHasher({ concurrency: 4, memoryCost: 4096, timeCost: 1 })
  const delivery = opts.delivery ?? noDelivery
  // Pre-generated signing keys (test/fixtures/keys) instead of two fresh RSA pairs per env.
  const signingKeys = fixtureKeys()
  let rt = createRuntime(config, { log: silentLogger, clock, passwords, delivery, signingKeys })
  const envs: TestEnv[] = []

  async function addEnv(seed: EnvSeed = {}): Promise<TestEnv> {
    const n = ++counter
    const host = seed.host ?? `clerk.env${n}-${process.pid}.test`
    const created = await createEnvironment(rt.tenancy, {
      name: seed.name ?? `Test env ${n}`,
      type: seed.type ?? 'development',
      hosts: [host],
      algorithm: seed.algorithm,
    })
    const env = {
      id: created.id,
      host,
      secretKey: created.secret_key,
      publishableKey: created.publishable_key,
    }
    envs.push(env)
    return env
  }
  for (const seed of opts.envs ?? [{}]) await addEnv(seed)

  const encode = (body: Body, headers: Record<string, string>) => {
    if (body === undefined) return undefined
    if (typeof body === 'string') return body
    headers['content-type'] ??= 'application/json'
    return JSON.stringify(body)
  }
  const h: Harness = {
    get rt() {
      return rt
    },
    clock,
    dir,
    envs,
    get env() {
      return envs[0]!
    },
    request: async (url, init) => rt.server.handle(new Request(url, init), '127.0.0.1'),
    bapi(method, path, body, o = {}) {
      const env = o.env ?? envs[0]!
      const headers: Record<string, string> = { authorization: `Bearer ${env.secretKey}`, ...o.headers }
      return h.request(`https://api.authn.test${path}`, { method, headers, body: encode(body, headers) })
    },
    fapi(method, path, body, o = {}) {
      const env = o.env ?? envs[0]!
      const headers: Record<string, string> = { ...o.headers }
      return h.request(`https://${env.host}${path}`, { method, headers, body: encode(body, headers) })
    },
    settle: () => rt.idle(),
    ctx: (fn, env) => rt.pool.use((env ?? envs[0]!).id, fn),
    addEnv,
    async restart() {
      await rt.scheduler.stop()
      rt.close()
      rt = createRuntime(config, { log: silentLogger, clock, passwords, delivery, signingKeys })
    },
    close() {
      rt.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return h
}

/** Parses a JSON response body, failing loudly with the body text when it is not JSON. */
export async function body<T = Record<string, any>>(res: Response): Promise<T> {
  const text = await res.text()
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`)
  }
}
