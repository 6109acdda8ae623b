import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { silentLogger } from '../../src/log'
import { createRuntime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'
import { BUN, ROOT, type Running, startServer } from '../e2e/helpers'
import { fixtureKeys } from '../helpers/keys'

export const SERVE = [BUN, `${ROOT}src/main.ts`]

export function tempDirs() {
  const dirs: string[] = []
  return {
    make(prefix = 'authn-ops-') {
      const d = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(d)
      return d
    },
    clean() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
  }
}

export interface SeededEnv {
  id: string
  host: string
  secretKey: string
}

/** Envs made in process (as the CLI does, with pre-generated keys), before a server starts. */
export async function seedEnvs(dataDir: string, hosts: string[]): Promise<SeededEnv[]> {
  const rt = createRuntime(loadConfig({}, { dataDir, logLevel: 'silent' }), {
    log: silentLogger,
    signingKeys: fixtureKeys(),
  })
  try {
    const out: SeededEnv[] = []
    for (const host of hosts) {
      const env = await createEnvironment(rt.tenancy, { name: host, hosts: [host] })
      out.push({ id: env.id, host, secretKey: env.secret_key })
    }
    return out
  } finally {
    rt.close()
  }
}

export async function serve(dataDir: string, port: number, running: Running[]): Promise<Running> {
  const r = await startServer(SERVE, dataDir, port)
  running.push(r)
  return r
}

export interface Logged extends Running {
  /** Everything the server printed after its banner, once it has exited. */
  output(): Promise<string>
  /** The NDJSON log lines it printed (access lines have msg "request"). */
  lines(): Promise<Array<Record<string, unknown>>>
}

/** Starts `serve` keeping its stdout (logs and access lines) for the test to read. */
export async function serveLogged(
  dataDir: string,
  port: number,
  running: Running[],
  env: Record<string, string> = {},
): Promise<Logged> {
  const proc = Bun.spawn([...SERVE, 'serve', '--port', String(port), '--data', dataDir], {
    cwd: ROOT,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, AUTHN_HOSTNAME: '127.0.0.1', AUTHN_LOG_LEVEL: 'info', ...env },
  })
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + 30_000
  while (!text.includes('authn listening on')) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${text}`)
    const { done, value } = await reader.read()
    if (done) throw new Error(`server exited:\n${text}\n${await new Response(proc.stderr).text()}`)
    text += decoder.decode(value, { stream: true })
  }
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      text += decoder.decode(value, { stream: true })
    }
  })()
  const r: Logged = {
    proc: proc as Running['proc'],
    banner: text,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGTERM')
      return proc.exited
    },
    async output() {
      await proc.exited
      await rest
      return text
    },
    async lines() {
      return (await r.output())
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    },
  }
  running.push(r)
  return r
}

/**
 * A steady writer: creates users one after another (no password, so no hashing) until
 * stopped, and keeps the id of every user the server acknowledged (answered 200).
 */
export function startWriter(base: string, env: SeededEnv, opts: { lanes?: number; tag?: string } = {}) {
  const acked: string[] = []
  const errors: string[] = []
  let stopped = false
  let seq = 0
  const tag = opts.tag ?? 'w'
  const lane = async () => {
    while (!stopped) {
      const n = ++seq
      try {
        const res = await fetch(`${base}/v1/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${env.secretKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            email_address: [`${tag}${n}@example.com`],
            skip_password_requirement: true,
          }),
        })
        const text = await res.text()
        if (res.status === 200) acked.push((JSON.parse(text) as { id: string }).id)
        else errors.push(`${res.status} ${text.slice(0, 200)}`)
      } catch (err) {
        // The connection failed: not acknowledged, so not counted (a killed server's in-flight write).
        errors.push(`${tag}${n}@example.com: ${String(err)}`)
        if (stopped) return
        await Bun.sleep(20)
      }
    }
  }
  const lanes = Array.from({ length: opts.lanes ?? 2 }, lane)
  return {
    acked,
    errors,
    async stop() {
      stopped = true
      await Promise.all(lanes)
    },
  }
}
