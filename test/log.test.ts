import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createPasswordHasher } from '../src/crypto/passwords'
import { fixedClock } from '../src/lib/clock'
import { createLogging } from '../src/log'
import { createRuntime } from '../src/runtime'
import { createEnvironment } from '../src/tenancy/environments'

function capture() {
  const lines: string[] = []
  return { lines, stream: { write: (s: string) => void lines.push(s) } }
}

describe('logs', () => {
  it('write one access line per request and never a secret key, password or cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authn-log-'))
    const out = capture()
    const { log, access } = createLogging('info', out.stream)
    const rt = createRuntime(loadConfig({}, { dataDir: dir }), {
      log,
      access,
      clock: fixedClock(),
      passwords: createPasswordHasher({ concurrency: 1, memoryCost: 4096, timeCost: 1 }),
    })
    const env = await createEnvironment(rt.tenancy, { name: 'Logs', hosts: ['clerk.logs.test'] })
    const password = 'hunter2 hunter2 hunter2'
    const headers = {
      authorization: `Bearer ${env.secret_key}`,
      'content-type': 'application/json',
      cookie: '__authn_client=secret-cookie',
    }
    await rt.server.handle(
      new Request('https://api.authn.test/v1/users?email_address=x@example.com', {
        method: 'POST',
        headers,
        body: JSON.stringify({ email_address: ['logs@example.com'], password }),
      }),
    )
    await rt.server.handle(
      new Request('https://api.authn.test/v1/users', {
        headers: { authorization: 'Bearer sk_test_wrongwrongwrongwrongwrong' },
      }),
    )
    log.info({ headers, body: { password, code: '424242', client_secret: 'cs' } }, 'a careless log call')
    log.flush()
    const text = out.lines.join('')
    const lines = out.lines.map((l) => JSON.parse(l)).filter((l) => l.path)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({
      method: 'POST',
      path: '/v1/users',
      status: 200,
      surface: 'bapi',
      env_id: env.id,
    })
    expect(lines[0].trace_id).toBeString()
    expect(lines[1]).toMatchObject({ status: 401 })
    for (const secret of [
      env.secret_key,
      password,
      'secret-cookie',
      '424242',
      'sk_test_wrong',
      'x@example.com',
    ]) {
      expect(text).not.toContain(secret)
    }
    rt.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
