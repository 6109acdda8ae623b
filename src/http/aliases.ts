import { type RequestState, setRequestState } from './shared/request-state'

/**
 * Another spelling of a route: Clerk's Backend API writes `/v1/jwt_templates` and
 * `/v1/users/{id}/verify_password` where the seed writes `/v1/jwt-templates` and
 * `…/verify-password`. The dispatcher rewrites the path before routing, so one route serves
 * both and the OpenAPI documents list the seed's path with its aliases beside it.
 */
export interface PathAlias {
  /** The other spelling: literal segments and `:name` parameters. */
  from: string
  /** The route it stands for, using the same `:name` parameters. */
  to: string
  /** Only for these methods (all when unset). */
  methods?: readonly string[]
  /** Query parameters the spelling implies (`…/invitations/pending` is `?status=pending`). */
  query?: Readonly<Record<string, string>>
}

interface Compiled {
  alias: PathAlias
  segments: string[]
}

export interface PathAliases {
  readonly table: readonly PathAlias[]
  /** The path (and implied query) a request's path stands for, or null when it is no alias. */
  resolve(path: string, method: string): { path: string; query?: Readonly<Record<string, string>> } | null
}

const split = (path: string) => path.split('/').filter(Boolean)

export function pathAliases(table: readonly PathAlias[]): PathAliases {
  const bySize = new Map<number, Compiled[]>()
  for (const alias of table) {
    const segments = split(alias.from)
    const missing = split(alias.to).filter((s) => s.startsWith(':') && !segments.includes(s))
    if (missing.length) throw new Error(`alias ${alias.from} does not bind ${missing.join(', ')}`)
    const list = bySize.get(segments.length) ?? []
    list.push({ alias, segments })
    bySize.set(segments.length, list)
  }
  return {
    table,
    resolve(path, method) {
      const parts = split(path)
      for (const { alias, segments } of bySize.get(parts.length) ?? []) {
        if (alias.methods && !alias.methods.includes(method)) continue
        const params: Record<string, string> = {}
        const matches = segments.every((s, i) => {
          if (s.startsWith(':')) {
            params[s] = parts[i]!
            return true
          }
          return s === parts[i]
        })
        if (!matches) continue
        const to = split(alias.to).map((s) => (s.startsWith(':') ? params[s]! : s))
        return { path: `/${to.join('/')}`, query: alias.query }
      }
      return null
    },
  }
}

/**
 * Routes the request by the path its alias stands for: a new Request (Elysia routes on the
 * URL) carrying the same state. The access log keeps the path the client sent.
 */
export function rewriteAlias(request: Request, aliases: PathAliases, state: RequestState): Request {
  const url = new URL(request.url)
  const target = aliases.resolve(url.pathname, request.method)
  if (!target) return request
  url.pathname = target.path
  for (const [k, v] of Object.entries(target.query ?? {})) url.searchParams.set(k, v)
  const copy = new Request(url.href, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    duplex: 'half',
  } as RequestInit)
  setRequestState(copy, state)
  return copy
}
