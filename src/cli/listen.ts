import type { Server } from 'bun'

/**
 * How a server binds its port. Alone (every `serve` today): an exclusive bind, never port reuse,
 * so a second server on the port fails to start instead of silently taking part of its
 * traffic. In a group (one server's workers, started by it with its AUTHN_SERVE_GROUP token),
 * the sockets share the port with SO_REUSEPORT: the leader first binds exclusively to prove
 * nobody else listens there, then rebinds with reuse for its members to join.
 */
export type BindRole = 'alone' | 'leader' | 'member'

export type ServeOptions = Parameters<typeof Bun.serve>[0] & { port: number; hostname?: string }

export class PortInUseError extends Error {
  override name = 'PortInUseError'
}

function bind(options: ServeOptions, reusePort: boolean): Server<unknown> {
  try {
    return Bun.serve({ ...options, reusePort } as Parameters<typeof Bun.serve>[0]) as Server<unknown>
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new PortInUseError(
        `port ${options.port} on ${options.hostname ?? '0.0.0.0'} is already in use by another process`,
      )
    }
    throw err
  }
}

export function listen(options: ServeOptions, role: BindRole = 'alone'): Server<unknown> {
  if (role === 'alone') return bind(options, false)
  if (role === 'member') return bind(options, true)
  const probe = bind(options, false)
  const port = probe.port ?? options.port
  probe.stop(true)
  return bind({ ...options, port }, true)
}
