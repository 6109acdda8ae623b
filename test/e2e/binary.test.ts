import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

/**
 * The compiled dist/authn, run from a directory with no migrations/ folder: it must carry its
 * migrations and boot on an empty data directory. Traffic stays on 127.0.0.1.
 */
const root = resolve(import.meta.dir, '../..')
const binary = join(root, 'dist', 'authn')
const tmp = mkdtempSync(join(tmpdir(), 'authn-bin-'))
const cwd = join(tmp, 'cwd')
// The child inherits the test env (AUTHN_LOG_LEVEL=silent from test/setup.ts); pin what matters.
const childEnv = { ...process.env, AUTHN_HOSTNAME: '127.0.0.1', AUTHN_LOG_LEVEL: 'info' }
let server: Subprocess<'ignore', 'pipe', 'pipe'> | undefined

beforeAll(() => {
  mkdirSync(cwd)
  const build = Bun.spawnSync([process.execPath, join(root, 'scripts', 'build.ts')], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`)
  expect(existsSync(binary)).toBe(true)
  expect(existsSync(join(cwd, 'migrations'))).toBe(false)
}, 120_000)

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL')
    await server.exited
  }
  rmSync(tmp, { recursive: true, force: true })
})

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

/** Drains the stream (so the pipe never fills) and resolves once `pattern` has appeared. */
function waitForOutput(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs: number) {
  let seen = ''
  return new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no ${pattern} within ${timeoutMs} ms; got:\n${seen}`)),
      timeoutMs,
    )
    ;(async () => {
      const decoder = new TextDecoder()
      for await (const chunk of stream) {
        seen += decoder.decode(chunk, { stream: true })
        if (pattern.test(seen)) {
          clearTimeout(timer)
          done(seen)
        }
      }
      clearTimeout(timer)
      fail(new Error(`stdout closed before ${pattern}; got:\n${seen}`))
    })().catch(fail)
  })
}

describe('compiled binary', () => {
  it('serves JWKS on an empty data dir with two workers and stops cleanly on SIGTERM', async () => {
    const data = join(tmp, 'data-serve')
    mkdirSync(data)
    const port = freePort()
    server = Bun.spawn([binary, 'serve', '--port', String(port), '--data', data, '--workers', '2'], {
      cwd,
      env: childEnv,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const stdout = await waitForOutput(
      server.stdout,
      new RegExp(`authn listening on http://localhost:${port}\\b`),
      15_000,
    )
    expect(stdout).toContain('created development environment env_')
    // The compiled binary starts its member as itself.
    expect(stdout).toContain('2 server processes share the port')

    const res = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`, {
      headers: { Host: 'localhost' },
    })
    expect(res.status).toBe(200)
    const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> }
    expect(keys.length).toBeGreaterThanOrEqual(1)
    expect(keys[0]).toMatchObject({ kty: expect.any(String), kid: expect.any(String), alg: 'RS256' })
    // The API reference and its viewer are embedded: no node_modules beside the binary.
    const viewer = await fetch(`http://127.0.0.1:${port}/docs/scalar.js`)
    expect(viewer.status).toBe(200)
    expect((await viewer.arrayBuffer()).byteLength).toBe(
      Bun.file(join(root, 'node_modules/@scalar/api-reference/dist/browser/standalone.js')).size,
    )
    expect(await (await fetch(`http://127.0.0.1:${port}/docs`)).text()).toContain('/docs/scalar.js')
    expect((await fetch(`http://127.0.0.1:${port}/openapi/bapi.json`)).status).toBe(200)

    server.kill('SIGTERM')
    const code = await server.exited
    if (code !== 0) throw new Error(`exit ${code}; stderr:\n${await new Response(server.stderr).text()}`)
    expect(code).toBe(0)
  }, 30_000)

  it('creates an environment from the CLI', async () => {
    const data = join(tmp, 'data-cli')
    const proc = Bun.spawn(
      [binary, 'env', 'create', '--name', 'Bin', '--host', 'bin.localhost', '--json', '--data', data],
      { cwd, env: childEnv, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    )
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    if (code !== 0) throw new Error(`exit ${code}:\n${stdout}\n${stderr}`)
    const env = JSON.parse(stdout) as { id: string; secret_key: string; hosts: string[] }
    expect(env.id).toStartWith('env_')
    expect(env.secret_key).toStartWith('sk_test_')
    expect(env.hosts).toEqual(['bin.localhost'])
  })
})
