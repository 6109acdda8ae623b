// In-process profile of the token refresh path, no HTTP: a runtime like `serve` builds (access
// log at info, to /dev/null), one env, one signed-in client, then IN_FLIGHT concurrent loops of
// `rt.server.handle(POST /v1/client/sessions/{sid}/tokens)` for SECONDS. Prints µs of CPU per
// request; run under `bun --cpu-prof` to see where it goes (see bench/README.md, "Token refresh").
//
// usage: bun [--cpu-prof --cpu-prof-dir=DIR] bench/token-refresh-profile.ts [RS256|ES256] [SECONDS] [IN_FLIGHT]
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import type { SigningAlgorithm } from '../src/crypto/keys'
import { createPasswordHasher } from '../src/crypto/passwords'
import { createLogging } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment } from '../src/tenancy/environments'

const alg = (process.argv[2] ?? 'ES256') as SigningAlgorithm
const SECONDS = Number(process.argv[3] ?? 5)
const IN_FLIGHT = Number(process.argv[4] ?? 50)
const HOST = `${alg.toLowerCase()}.localhost`
const ORIGIN = 'http://localhost:5173'

const dir = mkdtempSync(join(tmpdir(), 'authn-profile-'))
const devNull = openSync('/dev/null', 'w')
const logging = createLogging('info', { write: (s: string) => void writeSync(devNull, s) } as never)
const rt = createRuntime(loadConfig({}, { dataDir: dir, rateLimits: false }), {
  ...logging,
  // Setup only: one cheap hash, so the profile is all refreshes.
  passwords: createPasswordHasher({ concurrency: 2, memoryCost: 4096, timeCost: 1 }),
})
try {
  const env = await createEnvironment(rt.tenancy, { name: 'Profile', hosts: [HOST], algorithm: alg })
  const json = { 'content-type': 'application/json' }
  const user = await rt.server.handle(
    new Request('http://127.0.0.1/v1/users', {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${env.secret_key}` },
      body: JSON.stringify({
        email_address: ['bench@example.com'],
        password: 'correct horse battery staple',
      }),
    }),
    '127.0.0.1',
  )
  if (user.status !== 200) throw new Error(`POST /v1/users -> ${user.status}: ${await user.text()}`)
  const signIn = await rt.server.handle(
    new Request(`http://${HOST}/v1/client/sign-ins`, {
      method: 'POST',
      headers: { ...json, origin: ORIGIN },
      body: JSON.stringify({ identifier: 'bench@example.com', password: 'correct horse battery staple' }),
    }),
    '127.0.0.1',
  )
  if (signIn.status !== 200) throw new Error(`sign-in -> ${signIn.status}: ${await signIn.text()}`)
  const sid = ((await signIn.json()) as { response: { created_session_id: string } }).response
    .created_session_id
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('__authn_client='))!
  const url = `http://${HOST}/v1/client/sessions/${sid}/tokens`
  const headers = { cookie, origin: ORIGIN }

  async function loop(ms: number) {
    const end = performance.now() + ms
    let n = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          const res = await rt.server.handle(new Request(url, { method: 'POST', headers }), '127.0.0.1')
          if (res.status !== 200) throw new Error(`refresh -> ${res.status}: ${await res.text()}`)
          await res.arrayBuffer()
          n++
        }
      }),
    )
    return n
  }
  await loop(1000)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const n = await loop(SECONDS * 1000)
  const s = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  console.log(
    JSON.stringify({
      alg,
      in_flight: IN_FLIGHT,
      requests: n,
      req_per_sec: Math.round(n / s),
      cpu_us_per_req: Math.round((cpu.user + cpu.system) / n),
    }),
  )
} finally {
  rt.close()
  rmSync(dir, { recursive: true, force: true })
}
