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
        errors.push(String(err))
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
