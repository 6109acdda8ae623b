import { afterAll, describe, expect, it } from 'bun:test'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { silentLogger } from '../../src/log'
import { createRuntime } from '../../src/runtime'
import { createEnvironment, createEnvTemplate, syncRegistry } from '../../src/tenancy/environments'
import { cli } from '../e2e/helpers'
import { fixtureKeys } from '../helpers/keys'
import { tempDirs } from './support'

const dirs = tempDirs()
afterAll(() => dirs.clean())

describe('many environments in one data root (the CI-sized version of bench/ten-thousand.ts)', () => {
  it('bulk-created envs are rebuilt into a fresh registry and served round-robin through a small pool', async () => {
    const data = dirs.make()
    const N = 40
    const rt = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent' }), {
      log: silentLogger,
      signingKeys: fixtureKeys(),
    })
    const template = join(data, '.template.sqlite')
    createEnvTemplate(template)
    const hosts: string[] = []
    try {
      for (let n = 1; n <= N; n++) {
        const env = await createEnvironment(rt.tenancy, {
          name: `Tenant ${n}`,
          hosts: [`tenant-${n}.scale.test`],
          algorithm: 'ES256',
          template,
        })
        hosts.push(env.hosts[0]!)
      }
    } finally {
      rt.close()
      rmSync(template)
    }
    // The index is lost: the next start rebuilds it from the folders alone.
    for (const f of readdirSync(data).filter((f) => f.startsWith('registry.sqlite'))) rmSync(join(data, f))

    const again = createRuntime(loadConfig({}, { dataDir: data, logLevel: 'silent', maxOpenEnvs: 8 }), {
      log: silentLogger,
    })
    try {
      const sync = syncRegistry(again.tenancy)
      expect(sync).toMatchObject({ rebuilt: true, envs: N, problems: [] })
      for (let pass = 0; pass < 2; pass++) {
        for (const host of hosts) {
          const res = await again.server.handle(new Request(`https://${host}/v1/environment`))
          expect(res.status).toBe(200)
        }
      }
      expect(again.pool.openEnvs().length).toBe(8)
      expect(again.pool.stats().evictions).toBeGreaterThanOrEqual(2 * N - 8)
    } finally {
      again.close()
    }
  }, 60_000)

  it('env create --count: each env its own id, host, keys and secret key', async () => {
    const data = dirs.make()
    const bad = await cli([
      'env',
      'create',
      '--count',
      '3',
      '--name',
      'T',
      '--host',
      'same.example.test',
      '--data',
      data,
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('{n}')
    const r = await cli([
      'env',
      'create',
      '--count',
      '3',
      '--name',
      'T',
      '--host',
      't-{n}.example.test',
      '--alg',
      'ES256',
      '--data',
      data,
      '--json',
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const envs = JSON.parse(r.stdout) as Array<{
      id: string
      hosts: string[]
      secret_key: string
      name: string
    }>
    expect(envs.map((e) => e.hosts)).toEqual([
      ['t-1.example.test'],
      ['t-2.example.test'],
      ['t-3.example.test'],
    ])
    expect(envs.map((e) => e.name)).toEqual(['T 1', 'T 2', 'T 3'])
    expect(new Set(envs.map((e) => e.id)).size).toBe(3)
    expect(new Set(envs.map((e) => e.secret_key)).size).toBe(3)
    const keys = envs.map((e) =>
      readdirSync(join(data, e.id, 'keys'))
        .sort()
        .join(','),
    )
    expect(new Set(keys).size).toBe(3) // distinct kids in every env
    expect(readdirSync(data).filter((f) => f.startsWith('.env-template'))).toEqual([])
  }, 60_000)
})
