import { rotateKeys, SIGNING_ALGORITHMS, type SigningAlgorithm } from '../crypto/keys'
import { isId } from '../lib/ids'
import type { Runtime } from '../runtime'
import {
  createSecretKey,
  type EnvironmentInfo,
  environmentInfo,
  listSecretKeys,
  revokeSecretKey,
} from '../tenancy/env-store'
import {
  createEnvironment,
  deleteEnvironment,
  EnvironmentError,
  indexEnvironment,
} from '../tenancy/environments'
import { envKeysDir } from '../tenancy/paths'
import { EnvUnavailableError } from '../tenancy/pool'
import type { Args } from './args'
import { createManyCommand } from './ops'

export interface Output {
  json: boolean
  print(value: unknown, human: () => string): void
}

const algorithm = (raw: string | undefined): SigningAlgorithm | undefined => {
  if (raw === undefined) return undefined
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(raw)) {
    throw new EnvironmentError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`)
  }
  return raw as SigningAlgorithm
}

function requireEnv(rt: Runtime, id: string | undefined): string {
  if (!id) throw new EnvironmentError('--env ID is required')
  if (!isId('environment', id) || !rt.registry.list().some((e) => e.id === id)) {
    throw new EnvironmentError(`no environment ${id}`)
  }
  return id
}

export async function envCommand(rt: Runtime, args: Args, out: Output) {
  const [, sub, id] = args.positionals
  switch (sub) {
    case 'create': {
      if (args.has('count')) return createManyCommand(rt, args, out, algorithm(args.get('alg')))
      const name = args.get('name')
      if (!name) throw new EnvironmentError('--name is required')
      const type = args.get('type') ?? 'development'
      if (type !== 'development' && type !== 'production')
        throw new EnvironmentError('--type must be development or production')
      const env = await createEnvironment(rt.tenancy, {
        name,
        type,
        hosts: args.all('host'),
        algorithm: algorithm(args.get('alg')),
      })
      const host = env.hosts[0]
      out.print(
        {
          id: env.id,
          name: env.name,
          type: env.type,
          host,
          hosts: env.hosts,
          frontend_api: env.frontend_api,
          publishable_key: env.publishable_key,
          secret_key: env.secret_key,
        },
        () =>
          [
            `created ${env.type} environment ${env.id} (${env.name})`,
            `  frontend host    ${env.hosts.join(', ')}`,
            `  publishable key  ${env.publishable_key}`,
            `  secret key       ${env.secret_key}   (shown once; only its hash is kept)`,
          ].join('\n'),
      )
      return
    }
    case 'list': {
      // An env that cannot be opened, or a folder that is not served, is listed with the reason.
      const envs: Array<EnvironmentInfo | { id: string; name?: string; type?: string; problem: string }> =
        rt.registry.list().map((e) => {
          try {
            return rt.pool.use(e.id, environmentInfo, { transient: true })
          } catch (err) {
            const reason = err instanceof EnvUnavailableError ? err.reason : String(err)
            return { id: e.id, name: e.name, type: e.type, problem: `unavailable: ${reason}` }
          }
        })
      for (const p of rt.registry.problems()) envs.push({ id: p.id, problem: `skipped: ${p.problem}` })
      out.print(
        envs,
        () =>
          envs
            .map((e) =>
              'problem' in e
                ? `${e.id}  ${e.problem}`
                : `${e.id}  ${e.type.padEnd(11)}  ${e.hosts.join(',')}  ${e.name}`,
            )
            .join('\n') || 'no environments',
      )
      return
    }
    case 'show': {
      const envId = requireEnv(rt, id ?? args.get('env'))
      const info = rt.pool.use(envId, (ctx) => ({
        ...environmentInfo(ctx),
        secret_keys: listSecretKeys(ctx),
      }))
      out.print(info, () => JSON.stringify(info, null, 2))
      return
    }
    case 'delete': {
      const envId = requireEnv(rt, id ?? args.get('env'))
      deleteEnvironment(rt.tenancy, envId)
      out.print({ id: envId, deleted: true }, () => `deleted ${envId}`)
      return
    }
    default:
      throw new EnvironmentError('usage: env create|list|show|delete')
  }
}

export function secretKeysCommand(rt: Runtime, args: Args, out: Output) {
  const [, sub, keyId] = args.positionals
  const envId = requireEnv(rt, args.get('env'))
  switch (sub) {
    case 'create': {
      const key = rt.pool.use(envId, (ctx) => {
        const k = createSecretKey(ctx)
        indexEnvironment(rt.registry, ctx)
        return k
      })
      out.print(key, () => `${key.id}  ${key.secret_key}   (shown once)`)
      return
    }
    case 'list': {
      const keys = rt.pool.use(envId, listSecretKeys)
      out.print(keys, () =>
        keys.map((k) => `${k.id}  …${k.hint}  ${k.revoked_at ? 'revoked' : 'active'}`).join('\n'),
      )
      return
    }
    case 'revoke': {
      if (!keyId) throw new EnvironmentError('usage: secret-keys revoke KEY_ID --env ID')
      const key = rt.pool.use(envId, (ctx) => {
        const k = revokeSecretKey(ctx, keyId)
        if (k) indexEnvironment(rt.registry, ctx)
        return k
      })
      if (!key) throw new EnvironmentError(`no secret key ${keyId} in ${envId}`)
      out.print(key, () => `revoked ${key.id}`)
      return
    }
    default:
      throw new EnvironmentError('usage: secret-keys create|list|revoke --env ID')
  }
}

export async function keysCommand(rt: Runtime, args: Args, out: Output) {
  const [, sub] = args.positionals
  const envId = requireEnv(rt, args.get('env'))
  if (sub !== 'rotate')
    throw new EnvironmentError('usage: keys rotate --env ID [--alg RS256|ES256|EdDSA] [--immediate]')
  const dir = rt.pool.use(envId, (ctx) => ctx.dir)
  const result = await rotateKeys(envKeysDir(dir), rt.clock.now(), {
    alg: algorithm(args.get('alg')),
    immediate: args.has('immediate'),
  })
  // A key now has a retirement date: the server's scheduler looks at the env's keys again.
  rt.registry.lowerDueMany([[envId, rt.clock.now()]])
  out.print(result, () =>
    [
      `${result.signing.kid} (${result.signing.alg}) signs from ${new Date(result.signing.activate_at).toISOString()}`,
      result.retiring
        ? `${result.retiring.kid} stays published until ${new Date(result.retiring.retire_at).toISOString()}`
        : '',
      `${result.standby.kid} published as the next key`,
    ]
      .filter(Boolean)
      .join('\n'),
  )
}
