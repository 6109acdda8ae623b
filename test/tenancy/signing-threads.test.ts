import { afterAll, describe, expect, it } from 'bun:test'
import { availableParallelism } from 'node:os'
import { loadConfig } from '../../src/config'
import { silentLogger } from '../../src/log'
import { createRuntime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'
import { fixtureKeys } from '../helpers/keys'
import { tempDirs } from '../ops/support'

const dirs = tempDirs()
afterAll(() => dirs.clean())

/** Whether an env handle of a runtime that is one of `workers` server processes signs off-thread. */
async function offThread(workers: number) {
  const rt = createRuntime(
    loadConfig({}, { dataDir: dirs.make('authn-signing-'), logLevel: 'silent', workers }),
    {
      log: silentLogger,
      signingKeys: fixtureKeys(),
    },
  )
  try {
    const env = await createEnvironment(rt.tenancy, { name: 'x', hosts: ['x.localhost'] })
    return rt.pool.use(env.id, (ctx) => ctx.offThreadSigning)
  } finally {
    rt.close()
  }
}

describe('where session tokens are signed', () => {
  it("on Bun's worker threads only while the server leaves a core to spare", async () => {
    const cpus = availableParallelism()
    expect(await offThread(cpus)).toBe(false)
    expect(await offThread(cpus + 1)).toBe(false)
    if (cpus > 1) expect(await offThread(cpus - 1)).toBe(true)
  })
})
