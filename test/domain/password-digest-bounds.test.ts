// Imported password digests are held to cost bounds (422 on import; never verified at full cost
// once stored), and the hashing queue the envs share is fair to each of them: a second env's
// sign-in starts at the first slot another env's flood frees, an env's own waiting line is
// capped (429), and a check past its deadline answers 503. Nothing here waits on time: the
// hashing work and its deadlines are driven by the test.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { createPasswordHasher, type PasswordWork, type Timer } from '../../src/crypto/passwords'
import { fixedClock } from '../../src/lib/clock'
import { silentLogger } from '../../src/log'
import { createRuntime, type Runtime } from '../../src/runtime'
import { createEnvironment } from '../../src/tenancy/environments'
import { body, createHarness, type Harness } from '../helpers/harness'
import { fixtureKeys } from '../helpers/keys'

const SALT_HASH = 'c2FsdHNhbHQ$aGFzaGhhc2hoYXNo'
const BCRYPT_31 = '$2b$31$abcdefghijklmnopqrstuuVvB0sN2yQ1lCkC0HgYd7JcG8xN8iHKe'
const BCRYPT_14 = '$2b$14$abcdefghijklmnopqrstuuVvB0sN2yQ1lCkC0HgYd7JcG8xN8iHKe'
const ARGON_1GIB = `$argon2id$v=19$m=1048576,t=2,p=1$${SALT_HASH}`
const ARGON_T11 = `$argon2id$v=19$m=65536,t=11,p=1$${SALT_HASH}`
const ARGON_OK = `$argon2id$v=19$m=4096,t=1,p=1$${SALT_HASH}`

const expectDigestRefused = async (res: Response, bound: string) => {
  expect(res.status).toBe(422)
  const b = await body(res)
  expect(typeof b.trace_id).toBe('string')
  expect(b.errors).toHaveLength(1)
  expect(b.errors[0]).toMatchObject({
    code: 'form_param_format_invalid',
    message: 'is invalid',
    meta: { param_name: 'password_digest' },
  })
  expect(b.errors[0].long_message).toContain(bound)
}

describe('imported digests outside the bounds', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it('are refused by POST /v1/users with 422 naming the bound', async () => {
    const create = (digest: string, hasher: string, email: string) =>
      h.bapi('POST', '/v1/users', {
        email_address: [email],
        password_digest: digest,
        password_hasher: hasher,
      })
    await expectDigestRefused(await create(BCRYPT_31, 'bcrypt', 'b31@example.com'), 'bcrypt costs 4 to 14')
    await expectDigestRefused(
      await create(ARGON_1GIB, 'argon2id', 'a1g@example.com'),
      'at most 262144 KiB (256 MiB)',
    )
    await expectDigestRefused(await create(ARGON_T11, 'argon2id', 't11@example.com'), 't from 1 to 10')
    // At the bounds is fine.
    expect((await create(BCRYPT_14, 'bcrypt', 'b14@example.com')).status).toBe(200)
    expect(
      (await create(`$argon2id$v=19$m=262144,t=4,p=1$${SALT_HASH}`, 'argon2id', 'a256@example.com')).status,
    ).toBe(200)
  })

  it('already stored fail verification without being verified', async () => {
    const created = await body(
      await h.bapi('POST', '/v1/users', {
        email_address: ['stored-b31@example.com'],
        password_digest: ARGON_OK,
        password_hasher: 'argon2id',
      }),
    )
    // As imported before the bounds existed (or copied in with an env folder).
    h.ctx((ctx) =>
      ctx.client.query('UPDATE users SET password_digest = ? WHERE id = ?').run(BCRYPT_31, created.id),
    )
    const original = Bun.password.verify
    const asked: string[] = []
    // A stand-in that answers at once, so a build that would verify cost 31 fails here, not in hours.
    Bun.password.verify = (async (_password: string, digest: string) => {
      asked.push(digest)
      return false
    }) as typeof Bun.password.verify
    try {
      const res = await h.bapi('POST', `/v1/users/${created.id}/verify-password`, { password: 'whatever' })
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0].code).toBe('incorrect_password')
      const signIn = await h.fapi('POST', '/v1/client/sign-ins', {
        identifier: 'stored-b31@example.com',
        password: 'whatever',
        strategy: 'password',
      })
      expect(signIn.status).toBe(422)
      expect(['form_password_incorrect', 'form_password_or_identifier_incorrect']).toContain(
        (await body(signIn)).errors[0].code,
      )
    } finally {
      Bun.password.verify = original
    }
    expect(asked).toEqual([])
    expect(h.rt.passwords.pending).toBe(0)
  })
})

describe('the hashing queue shared by envs, through sign-ins', () => {
  const started: { label: string; finish(ok: boolean): void }[] = []
  const work: PasswordWork = {
    hash: () => Promise.resolve(ARGON_OK),
    verify: (password) => new Promise((resolve) => started.push({ label: password, finish: resolve })),
  }
  const timers: { fire(): void }[] = []
  const timer: Timer = (_ms, fire) => {
    timers.push({ fire })
    return () => {}
  }
  let dir: string
  let rt: Runtime
  const hosts = { A: 'clerk.fair-a.test', B: 'clerk.fair-b.test' }
  const envIds: Record<string, string> = {}

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authn-fair-'))
    rt = createRuntime(loadConfig({}, { dataDir: dir, logLevel: 'silent', rateLimits: false }), {
      log: silentLogger,
      clock: fixedClock(),
      // One slot, one waiting check per env.
      passwords: createPasswordHasher({ concurrency: 1, maxQueuePerEnv: 1, work, timer }),
      signingKeys: fixtureKeys(),
    })
    for (const [name, host] of Object.entries(hosts)) {
      const env = await createEnvironment(rt.tenancy, { name, hosts: [host] })
      envIds[name] = env.id
      const res = await rt.server.handle(
        new Request('https://api.authn.test/v1/users', {
          method: 'POST',
          headers: { authorization: `Bearer ${env.secret_key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            email_address: [`someone@${name}.example.com`],
            password_digest: ARGON_OK,
            password_hasher: 'argon2id',
          }),
        }),
        '127.0.0.1',
      )
      expect(res.status).toBe(200)
    }
  })
  afterAll(() => {
    rt?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const signIn = (env: 'A' | 'B', password: string) =>
    rt.server.handle(
      new Request(`https://${hosts[env]}/v1/client/sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: `https://${hosts[env]}` },
        body: JSON.stringify({ identifier: `someone@${env}.example.com`, password, strategy: 'password' }),
      }),
      '127.0.0.1',
    )
  const pendingOf = (env: 'A' | 'B') => rt.passwords.forEnv(envIds[env]!).pending
  /** Turns the event loop until cond holds (requests reach the hasher); no time passes. */
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise<void>((r) => setImmediate(r))
    expect(cond()).toBe(true)
  }

  it("starts B's sign-in at the first turnover, caps A's line with 429, and answers A's expired check 503", async () => {
    const a1 = signIn('A', 'A1')
    await until(() => started.length === 1)
    const a2 = signIn('A', 'A2')
    await until(() => pendingOf('A') === 2)

    const a3 = await signIn('A', 'A3')
    expect(a3.status).toBe(429)
    expect(a3.headers.get('retry-after')).toBe('1')
    const refused = await body(a3)
    expect(refused.errors[0].code).toBe('too_many_requests')
    expect(typeof refused.trace_id).toBe('string')

    const b1 = signIn('B', 'B1')
    await until(() => pendingOf('B') === 1)

    started[0]!.finish(true)
    const first = await a1
    expect(first.status).toBe(200)
    expect((await body(first)).response.status).toBe('complete')
    // The freed slot went to B, although A's check had waited longer.
    await until(() => started.length === 2)
    expect(started.map((s) => s.label)).toEqual(['A1', 'B1'])

    // A2's deadline (one per check asked for: A1, A2, then B1; A3 was refused before queueing).
    expect(timers).toHaveLength(3)
    timers[1]!.fire()
    const late = await a2
    expect(late.status).toBe(503)
    expect(late.headers.get('retry-after')).toBe('5')
    const lateBody = await body(late)
    expect(lateBody.errors[0].code).toBe('service_unavailable')
    expect(typeof lateBody.trace_id).toBe('string')

    started[1]!.finish(true)
    expect((await b1).status).toBe(200)
    expect(started.map((s) => s.label)).toEqual(['A1', 'B1'])
    expect(rt.passwords.pending).toBe(0)
  })
})
