// A 10,000-user directory syncing into one organization over SCIM, in process (no port): the
// initial sync as an IdP runs it (GET /Users?filter=userName eq "…" to match, then POST, one user
// at a time), then lookups by userName in the full directory (an IdP's matching step, and Okta's
// "Username Case Sensitivity Check": the case differs from what was stored). Prints one JSON
// line (also bench/results/scim-sync.json); exits 1 when a goal is missed. See bench/README.md.
//
// usage: npx bun bench/scim-sync.ts
//        BENCH_USERS=2000 BENCH_LOOKUPS=500 npx bun bench/scim-sync.ts
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createPasswordHasher } from '../src/crypto/passwords'
import { silentLogger } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment } from '../src/tenancy/environments'

const USERS = Number(process.env.BENCH_USERS ?? 10_000)
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1_000)
/**
 * Goals: the sync outpaces what an IdP sends (Entra and Okta provision a few users a second per
 * app) many times over, on a shared 2-core machine; a lookup stays an index probe.
 */
const GOALS = { sync_users_per_s: 50, lookup_p99_ms: 20 }
const HOST = 'clerk.directory.test'

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (n: number) => +n.toFixed(2)

const dir = mkdtempSync(join(tmpdir(), 'authn-scim-bench-'))
const config = loadConfig({}, { dataDir: dir, logLevel: 'silent', rateLimits: false })
const rt = createRuntime(config, { log: silentLogger, passwords: createPasswordHasher({ concurrency: 2 }) })

async function main() {
  const env = await createEnvironment(rt.tenancy, { name: 'Directory', hosts: [HOST] })
  const send = async (url: string, method: string, headers: Record<string, string>, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const h: Record<string, string> = { ...headers }
    if (text !== undefined) {
      h['content-type'] ??= 'application/json'
      h['content-length'] = String(Buffer.byteLength(text))
    }
    const res = await rt.server.handle(new Request(url, { method, headers: h, body: text }), '127.0.0.1')
    const out = await res.text()
    return { status: res.status, body: out ? JSON.parse(out) : null }
  }
  const bapi = async (method: string, path: string, body?: unknown) => {
    const r = await send(
      `https://api.authn.test${path}`,
      method,
      { authorization: `Bearer ${env.secret_key}` },
      body,
    )
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }
  await bapi('PATCH', '/v1/instance', { organizations: { enabled: true, max_allowed_memberships: 0 } })
  const org = await bapi('POST', '/v1/organizations', { name: 'Contoso' })
  const { token } = await bapi('POST', `/v1/organizations/${org.id}/scim/tokens`, { name: 'bench' })
  const scim = (method: string, path: string, body?: unknown) =>
    send(
      `https://${HOST}/scim/v2${path}`,
      method,
      { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      body,
    )
  const userName = (i: number) => `user${i}.Sync@contoso.example`
  const byName = (name: string) => `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`

  // 1. The initial sync: match, then create, user after user.
  const syncStarted = performance.now()
  for (let i = 0; i < USERS; i++) {
    const match = await scim('GET', byName(userName(i)))
    if (match.status !== 200 || match.body.totalResults !== 0) throw new Error(`match ${i}: ${match.status}`)
    const created = await scim('POST', '/Users', {
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ],
      externalId: `ext-${i}`,
      userName: userName(i),
      active: true,
      emails: [{ primary: true, type: 'work', value: userName(i).toLowerCase() }],
      name: { givenName: `Given${i}`, familyName: `Family${i}` },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: `Dept ${i % 20}` },
    })
    if (created.status !== 201)
      throw new Error(`create ${i}: ${created.status} ${JSON.stringify(created.body)}`)
  }
  const syncSeconds = (performance.now() - syncStarted) / 1000

  // 2. Lookups by userName in the full directory, in another case than stored.
  const lookups: number[] = []
  for (let n = 0; n < LOOKUPS; n++) {
    const i = Math.floor(Math.random() * USERS)
    const started = performance.now()
    const r = await scim('GET', byName(userName(i).toUpperCase()))
    lookups.push(performance.now() - started)
    if (r.status !== 200 || r.body.totalResults !== 1) throw new Error(`lookup ${i}: ${r.status}`)
  }
  lookups.sort((x, y) => x - y)
  const page = performance.now()
  const list = await scim('GET', '/Users?startIndex=9001&count=100')
  const pageMs = performance.now() - page
  if (list.body.totalResults !== USERS) throw new Error(`totalResults ${list.body.totalResults}`)

  const result = {
    bench: 'scim-sync',
    users: USERS,
    sync_seconds: ms(syncSeconds),
    sync_users_per_s: Math.round(USERS / syncSeconds),
    lookups: LOOKUPS,
    lookup_p50_ms: ms(percentile(lookups, 50)),
    lookup_p99_ms: ms(percentile(lookups, 99)),
    lookup_max_ms: ms(lookups.at(-1)!),
    page_100_at_9001_ms: ms(pageMs),
    goals: GOALS,
    bun: Bun.version,
  }
  console.log(JSON.stringify(result))
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/scim-sync.json', `${JSON.stringify(result, null, 2)}\n`)
  const missed = [
    result.sync_users_per_s < GOALS.sync_users_per_s && `sync ${result.sync_users_per_s} users/s`,
    result.lookup_p99_ms > GOALS.lookup_p99_ms && `lookup p99 ${result.lookup_p99_ms} ms`,
  ].filter(Boolean)
  if (missed.length) {
    console.error(`goals missed: ${missed.join(', ')}`)
    process.exitCode = 1
  }
}

try {
  await main()
} finally {
  await rt.scheduler.stop()
  rt.close()
  rmSync(dir, { recursive: true, force: true })
}
