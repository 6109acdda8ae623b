import { afterAll, describe, expect, it } from 'bun:test'
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { sha256Hex } from '../../src/crypto/secrets'
import { silentLogger } from '../../src/log'
import { createRuntime, type Runtime } from '../../src/runtime'
import { envIndexFile } from '../../src/tenancy/env-index'
import { createEnvironment, syncRegistry } from '../../src/tenancy/environments'
import { envDbFile, envDir } from '../../src/tenancy/paths'
import { fixtureKeys } from '../helpers/keys'
import { tempDirs } from '../ops/support'

const dirs = tempDirs()
afterAll(() => dirs.clean())

const runtime = (data: string) =>
  createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), {
    log: silentLogger,
    signingKeys: fixtureKeys(),
  })

interface Made {
  id: string
  host: string
  secret: string
}

/** A data root with `n` envs, closed, its registry deleted (the next start rebuilds it). */
async function dataRoot(n: number): Promise<{ data: string; envs: Made[] }> {
  const data = dirs.make('authn-index-')
  const rt = runtime(data)
  const envs: Made[] = []
  try {
    for (let i = 1; i <= n; i++) {
      const env = await createEnvironment(rt.tenancy, {
        name: `Index ${i}`,
        type: i % 2 ? 'development' : 'production',
        hosts: [`idx-${i}.index.test`, `alt-${i}.index.test`],
        algorithm: 'ES256',
      })
      envs.push({ id: env.id, host: env.hosts[0]!, secret: env.secret_key })
    }
  } finally {
    rt.close()
  }
  dropRegistry(data)
  return { data, envs }
}

const dropRegistry = (data: string) => {
  for (const f of readdirSync(data).filter((f) => f.startsWith('registry.sqlite'))) rmSync(join(data, f))
}

/** Everything the registry answers, comparable. */
function snapshot(rt: Runtime, envs: Made[]) {
  return {
    list: rt.registry.list(),
    problems: rt.registry.problems(),
    hosts: rt.registry.list().map((e) => rt.registry.hostsOf(e.id)),
    keys: envs.map((e) => rt.registry.envForKeyHash(sha256Hex(e.secret))),
    due: rt.registry.list().map((e) => rt.registry.dueAt(e.id)),
  }
}

const get = (rt: Runtime, host: string) => rt.server.handle(new Request(`https://${host}/v1/environment`))
const bapi = (rt: Runtime, secret: string) =>
  rt.server.handle(
    new Request('https://api.index.test/v1/users', { headers: { authorization: `Bearer ${secret}` } }),
  )

function tamper(data: string, id: string, change: (index: Record<string, unknown>) => void) {
  const file = envIndexFile(envDir(data, id))
  const index = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  change(index)
  writeFileSync(file, JSON.stringify(index))
}

describe('registry rebuild from env index files', () => {
  it('matches a rebuild from the databases, without opening one', async () => {
    const { data, envs } = await dataRoot(4)
    for (const e of envs) expect(existsSync(envIndexFile(envDir(data, e.id)))).toBe(true)

    const fromFiles = runtime(data)
    let files: ReturnType<typeof snapshot>
    try {
      expect(syncRegistry(fromFiles.tenancy)).toMatchObject({ rebuilt: true, envs: 4, problems: [] })
      expect(fromFiles.pool.stats().opens).toBe(0)
      files = snapshot(fromFiles, envs)
      for (const e of envs) expect((await get(fromFiles, e.host)).status).toBe(200)
      for (const e of envs) expect((await bapi(fromFiles, e.secret)).status).toBe(200)
    } finally {
      fromFiles.close()
    }
    dropRegistry(data)
    const fromDbs = runtime(data)
    try {
      syncRegistry(fromDbs.tenancy, { force: true })
      expect(fromDbs.pool.stats().opens).toBe(4)
      expect(snapshot(fromDbs, envs)).toEqual(files)
      expect(files.keys).toEqual(envs.map((e) => e.id))
      expect(files.hosts).toEqual(
        [...envs]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((e) => [e.host, e.host.replace('idx-', 'alt-')]),
      )
    } finally {
      fromDbs.close()
    }
  }, 60_000)

  it('a missing, stale or foreign index file falls back to the database (and is written again)', async () => {
    const { data, envs } = await dataRoot(4)
    const [missing, replaced, foreign, fresh] = envs as [Made, Made, Made, Made]
    rmSync(envIndexFile(envDir(data, missing.id)))
    // The database was replaced (a restore, a copy): the index names the old file.
    const db = envDbFile(envDir(data, replaced.id))
    copyFileSync(db, `${db}.copy`)
    renameSync(`${db}.copy`, db)
    // Another env's index dropped into this folder.
    copyFileSync(envIndexFile(envDir(data, fresh.id)), envIndexFile(envDir(data, foreign.id)))

    const rt = runtime(data)
    try {
      expect(syncRegistry(rt.tenancy)).toMatchObject({ envs: 4, problems: [] })
      expect(rt.pool.stats().opens).toBe(3)
      for (const e of envs) {
        expect(rt.registry.envForHost(e.host)).toBe(e.id)
        expect(rt.registry.envForKeyHash(sha256Hex(e.secret))).toBe(e.id)
        expect((await get(rt, e.host)).status).toBe(200)
      }
      // Rewritten from the databases: the next rebuild opens none.
      rt.close()
      dropRegistry(data)
      const again = runtime(data)
      try {
        syncRegistry(again.tenancy)
        expect(again.pool.stats().opens).toBe(0)
        for (const e of envs) expect(again.registry.envForHost(e.host)).toBe(e.id)
      } finally {
        again.close()
      }
    } finally {
      rt.close()
    }
  }, 60_000)

  it('a secret key created or revoked after the index was written is not lost by the rebuild', async () => {
    const { data, envs } = await dataRoot(1)
    const env = envs[0]!
    const rt = runtime(data)
    syncRegistry(rt.tenancy)
    const { createSecretKey } = await import('../../src/tenancy/env-store')
    // A fact change that never reached indexEnvironment (a crash in between): no stale index left.
    const extra = rt.pool.use(env.id, createSecretKey)
    rt.close()
    expect(existsSync(envIndexFile(envDir(data, env.id)))).toBe(false)
    dropRegistry(data)
    const again = runtime(data)
    try {
      syncRegistry(again.tenancy)
      expect(again.registry.envForKeyHash(sha256Hex(extra.secret_key))).toBe(env.id)
      expect((await bapi(again, extra.secret_key)).status).toBe(200)
    } finally {
      again.close()
    }
  }, 60_000)

  it('a tampered index cannot make an env answer for a host or key its database does not name', async () => {
    const { data, envs } = await dataRoot(4)
    const [victim, thief, other, squatter] = envs as [Made, Made, Made, Made]
    tamper(data, thief.id, (index) => {
      index.hosts = [...(index.hosts as string[]), victim.host]
      index.key_hashes = [...(index.key_hashes as string[]), sha256Hex(victim.secret)]
    })
    tamper(data, other.id, (index) => {
      index.hosts = ['Not A Host!']
    })
    tamper(data, squatter.id, (index) => {
      index.hosts = [...(index.hosts as string[]), 'evil.index.test']
    })
    const rt = runtime(data)
    try {
      expect(syncRegistry(rt.tenancy)).toMatchObject({ envs: 4, problems: [] })
      // The claims on the victim's host and key were settled by the databases.
      expect(rt.registry.envForHost(victim.host)).toBe(victim.id)
      expect(rt.registry.envForKeyHash(sha256Hex(victim.secret))).toBe(victim.id)
      expect(rt.registry.envForHost(other.host)).toBe(other.id) // malformed index: database read
      const victimRes = await get(rt, victim.host)
      expect(victimRes.status).toBe(200)
      expect(((await victimRes.json()) as { id?: string }).id ?? victim.id).toBe(victim.id)
      expect((await bapi(rt, victim.secret)).status).toBe(200)
      // A host only the squatter's index names: indexed, but the env's database does not name
      // it, so it is answered like a host no env has.
      expect(rt.registry.envForHost('evil.index.test')).toBe(squatter.id)
      const evil = await get(rt, 'evil.index.test')
      const nowhere = await get(rt, 'nowhere.index.test')
      expect(evil.status).toBe(nowhere.status)
      expect(evil.status).toBeGreaterThanOrEqual(400)
      expect(evil.status).toBeLessThan(500)
      const codes = async (r: Response) =>
        ((await r.json()) as { errors: Array<{ code: string }> }).errors.map((e) => e.code)
      expect(await codes(evil)).toEqual(await codes(nowhere))
      expect((await get(rt, thief.host)).status).toBe(200)
      expect((await get(rt, squatter.host)).status).toBe(200)
    } finally {
      rt.close()
    }
  }, 60_000)
})
