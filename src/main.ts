#!/usr/bin/env bun
import { type Args, parseArgs } from './cli/args'
import { envCommand, keysCommand, type Output, secretKeysCommand } from './cli/commands'
import { loadConfig } from './config'
import { createLogging, silentAccess, silentLogger } from './log'
import { createRuntime, type Runtime } from './runtime'
import { environmentInfo } from './tenancy/env-store'
import { createEnvironment, EnvironmentError, syncRegistry } from './tenancy/environments'

const USAGE = `authn: self-hostable authentication server

usage: authn <command> [--data DIR] [--json]
  serve [--port N]                        run the server (creates a development env on an empty data dir)
  env create --name NAME [--type development|production] [--host HOST]... [--alg RS256|ES256|EdDSA]
  env list | env show ID | env delete ID
  secret-keys create|list --env ID | secret-keys revoke KEY_ID --env ID
  keys rotate --env ID [--alg ALG] [--immediate]

--data defaults to $AUTHN_DATA_DIR or ./tenants; --port to $PORT or 3000.`

const BOOLEAN_FLAGS = new Set(['json', 'immediate', 'help'])

function output(json: boolean): Output {
  return {
    json,
    print: (value, human) => console.log(json ? JSON.stringify(value) : human()),
  }
}

async function serve(rt: Runtime, args: Args) {
  const { rebuilt, envs } = syncRegistry(rt.tenancy)
  if (rebuilt) rt.log.info({ envs }, 'registry rebuilt from env folders')
  const port = args.has('port') ? Number(args.get('port')) : rt.config.port
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EnvironmentError('--port must be 0-65535')

  const banner: string[] = []
  if (envs === 0) {
    const env = await createEnvironment(rt.tenancy, {
      name: 'Development',
      type: 'development',
      hosts: ['localhost'],
    })
    banner.push(
      `created development environment ${env.id} on an empty data directory (${rt.config.dataDir})`,
      `  publishable key  ${env.publishable_key}`,
      `  secret key       ${env.secret_key}   (shown once; only its hash is kept)`,
    )
  }
  const bun = Bun.serve({
    port,
    hostname: rt.config.hostname,
    // The server's own cap with an error envelope is maxBodyBytes; this only guards memory.
    maxRequestBodySize: Math.max(rt.config.maxBodyBytes * 4, 16 * 1024 * 1024),
    development: false,
    fetch: (request, server) => rt.server.handle(request, server.requestIP(request)?.address ?? null),
  })
  rt.setLocalPort(bun.port ?? port)
  for (const e of rt.registry.list()) {
    const info = rt.pool.use(e.id, environmentInfo)
    banner.push(`env ${info.id} (${info.type}, ${info.name})`)
    for (const host of info.hosts) banner.push(`  frontend API     http://${host}:${bun.port}`)
    banner.push(`  publishable key  ${info.publishable_key}`)
  }
  banner.push(
    `authn listening on http://localhost:${bun.port}  (API reference: http://localhost:${bun.port}/docs)`,
  )
  console.log(banner.join('\n'))
  rt.scheduler.start()

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    rt.log.info({ signal }, 'shutting down: draining requests')
    await rt.scheduler.stop()
    await bun.stop(false)
    await rt.server.idle()
    rt.close()
    rt.log.info('stopped')
    rt.log.flush()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

export async function main(argv: string[]): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv, BOOLEAN_FLAGS)
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  const command = args.positionals[0]
  if (!command || args.has('help') || command === 'help') {
    console.log(USAGE)
    return command ? 0 : 2
  }
  const config = loadConfig(process.env, args.has('data') ? { dataDir: args.get('data')! } : {})
  const logging =
    command === 'serve' ? createLogging(config.logLevel) : { log: silentLogger, access: silentAccess }
  const rt = createRuntime(config, logging)
  const out = output(args.has('json'))
  try {
    switch (command) {
      case 'serve':
        await serve(rt, args)
        return -1
      case 'env':
        if (args.positionals[1] !== 'create') syncRegistry(rt.tenancy)
        await envCommand(rt, args, out)
        break
      case 'secret-keys':
        syncRegistry(rt.tenancy)
        secretKeysCommand(rt, args, out)
        break
      case 'keys':
        syncRegistry(rt.tenancy)
        await keysCommand(rt, args, out)
        break
      default:
        console.error(`unknown command ${command}\n\n${USAGE}`)
        return 2
    }
    return 0
  } catch (err) {
    if (err instanceof EnvironmentError) {
      if (out.json) console.log(JSON.stringify({ error: err.message }))
      else console.error(`error: ${err.message}`)
      return 1
    }
    throw err
  } finally {
    if (command !== 'serve') rt.close()
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exit(code)
}
