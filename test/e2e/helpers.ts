import type { Subprocess } from 'bun'

export const ROOT = new URL('../../', import.meta.url).pathname
export const BUN = process.execPath

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  await s.stop(true)
  return port
}

/** Runs the CLI to completion and returns its stdout. */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BUN, `${ROOT}src/main.ts`, ...args], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ...env },
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ])
  return { code, stdout, stderr }
}

export interface Running {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  banner: string
  base: string
  stop(): Promise<number>
}

/**
 * Starts `serve` on a loopback port and waits for its "listening" line. One server process
 * unless `workers` says otherwise (the default, one per CPU, is tested in workers.test.ts).
 */
export async function startServer(
  command: string[],
  dataDir: string,
  port: number,
  workers = 1,
): Promise<Running> {
  const proc = Bun.spawn(
    [...command, 'serve', '--port', String(port), '--data', dataDir, '--workers', String(workers)],
    {
      cwd: ROOT,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, AUTHN_HOSTNAME: '127.0.0.1', AUTHN_LOG_LEVEL: 'info' },
    },
  )
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let banner = ''
  const deadline = Date.now() + 20_000
  while (!banner.includes('authn listening on')) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${banner}`)
    const { done, value } = await reader.read()
    if (done) throw new Error(`server exited:\n${banner}\n${await new Response(proc.stderr).text()}`)
    banner += decoder.decode(value)
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  void (async () => {
    for (;;) if ((await reader.read()).done) break
  })()
  return {
    proc,
    banner,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGTERM')
      return proc.exited
    },
  }
}
