import { afterAll, describe, expect, it } from 'bun:test'
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUN, cli, freePort, ROOT, startServer } from './helpers'

const dirs: string[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'authn-e2e-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const SERVE = [BUN, `${ROOT}src/main.ts`]

describe('the real server process', () => {
  it('serves envs made by the CLI, and an env folder copied into a fresh data root runs there unchanged', async () => {
    const first = temp()
    const port = await freePort()
    const server = await startServer(SERVE, first, port)
    // An empty data root gets a development env on localhost, with its keys printed once.
    expect(server.banner).toMatch(/publishable key\s+pk_test_/)
    expect(server.banner).toMatch(/secret key\s+sk_test_/)
    const localJwks = await fetch(`${server.base}/.well-known/jwks.json`, { headers: { host: 'localhost' } })
    expect(localJwks.status).toBe(200)

    // The CLI creates another env while the server runs; the server picks it up.
    const created = await cli([
      'env',
      'create',
      '--name',
      'E2E',
      '--host',
      'e2e.localhost',
      '--data',
      first,
      '--json',
    ])
    expect(created.code).toBe(0)
    const env = JSON.parse(created.stdout) as {
      id: string
      secret_key: string
      publishable_key: string
      host: string
    }
    expect(env.id).toMatch(/^env_/)
    expect(env.host).toBe('e2e.localhost')
    expect(Buffer.from(env.publishable_key.slice('pk_test_'.length), 'base64').toString()).toBe(
      'e2e.localhost$',
    )

    const auth = { authorization: `Bearer ${env.secret_key}`, 'content-type': 'application/json' }
    const made = await fetch(`${server.base}/v1/users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ email_address: ['e2e@example.com'], password: 'correct horse battery' }),
    })
    expect(made.status).toBe(200)
    const user = (await made.json()) as { id: string }
    const got = await (await fetch(`${server.base}/v1/users/${user.id}`, { headers: auth })).json()
    const jwks = (await (
      await fetch(`${server.base}/.well-known/jwks.json`, { headers: { host: 'e2e.localhost' } })
    ).json()) as { keys: unknown[] }
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2)
    expect(await server.stop()).toBe(0)

    // Key files are private to the server's user.
    const keyDir = join(first, env.id, 'keys')
    expect(statSync(keyDir).mode & 0o777).toBe(0o700)

    // Backup by copying the folder; restore into a new root without its registry.
    const second = temp()
    cpSync(join(first, env.id), join(second, env.id), { recursive: true })
    expect(existsSync(join(second, 'registry.sqlite'))).toBe(false)
    const port2 = await freePort()
    const restored = await startServer(SERVE, second, port2)
    expect(restored.banner).not.toContain('created development environment')
    const again = await fetch(`${restored.base}/v1/users/${user.id}`, { headers: auth })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(got)
    const jwksAgain = await (
      await fetch(`${restored.base}/.well-known/jwks.json`, { headers: { host: 'e2e.localhost' } })
    ).json()
    expect(jwksAgain).toEqual(jwks)
    // The default env stayed behind in the first root.
    const local = await fetch(`${restored.base}/.well-known/jwks.json`, { headers: { host: 'localhost' } })
    expect(local.status).toBe(404)
    expect(await restored.stop()).toBe(0)
  }, 120_000)

  it('CLI: lists, shows, manages secret keys, rotates signing keys and deletes envs', async () => {
    const data = temp()
    const run = async (...args: string[]) => {
      const r = await cli([...args, '--data', data, '--json'])
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`)
      return JSON.parse(r.stdout)
    }
    const env = await run('env', 'create', '--name', 'Cli', '--alg', 'ES256')
    expect(env.host).toMatch(/^cli-[a-z0-9x]+\.localhost$/)
    const list = await run('env', 'list')
    expect(list.map((e: { id: string }) => e.id)).toEqual([env.id])
    const key = await run('secret-keys', 'create', '--env', env.id)
    expect(key.secret_key).toStartWith('sk_test_')
    const keys = await run('secret-keys', 'list', '--env', env.id)
    expect(keys).toHaveLength(2)
    expect(JSON.stringify(keys)).not.toContain(key.secret_key)
    const revoked = await run('secret-keys', 'revoke', key.id, '--env', env.id)
    expect(revoked.revoked_at).toBeNumber()
    const shown = await run('env', 'show', env.id)
    expect(
      shown.secret_keys.filter((k: { revoked_at: number | null }) => k.revoked_at === null),
    ).toHaveLength(1)
    const rotated = await run('keys', 'rotate', '--env', env.id)
    expect(rotated.signing.alg).toBe('ES256')
    expect(rotated.standby.kid).toMatch(/^key_/)
    const bad = await cli(['env', 'create', '--name', 'P', '--type', 'production', '--data', data, '--json'])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout).error).toContain('--host')
    expect(await run('env', 'delete', env.id)).toEqual({ id: env.id, deleted: true })
    expect(await run('env', 'list')).toEqual([])
  }, 120_000)
})
