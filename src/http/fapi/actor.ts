import { Elysia } from 'elysia'
import { type ClientActor, clientFromToken } from '../../domain/clients/service'
import { toClientResource } from '../../flows/client/view'
import type { EnvContext } from '../../tenancy/context'
import { requestEnv, requestState } from '../shared/request-state'

export const CLIENT_COOKIE = '__authn_client'

/** The client token: the cookie for browsers, `Authorization: Bearer` for native apps. */
export function readClientToken(request: Request): { token: string | null; native: boolean } {
  const auth = request.headers.get('authorization')
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim() || null, native: true }
  const cookie = request.headers.get('cookie')
  if (!cookie) return { token: null, native: false }
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === CLIENT_COOKIE)
      return { token: part.slice(eq + 1).trim() || null, native: false }
  }
  return { token: null, native: false }
}

/** The calling device's client and the request facts flows record. */
export async function resolveActor(request: Request): Promise<{ actor: ClientActor }> {
  const env = requestEnv(request)
  const state = requestState(request)!
  // Once per request: flows record the client token's rotation on this one object.
  if (state.fapi) return { actor: state.fapi.actor }
  const { token, native } = readClientToken(request)
  const actor: ClientActor = {
    client: token ? clientFromToken(env, token) : null,
    ip: state.ip,
    userAgent: request.headers.get('user-agent'),
    origin: request.headers.get('origin'),
    frontendUrl: state.frontendUrl ?? env.frontendUrl(),
    sessionId: state.clientParams?._authn_session_id ?? state.clientParams?._clerk_session_id ?? null,
  }
  state.fapi = { actor, native }
  return { actor }
}

/** Resolves the calling device's client for every FAPI route: `({ env, actor }) => …`. */
export const withActor = new Elysia({ name: 'with-actor' }).resolve({ as: 'scoped' }, ({ request }) =>
  resolveActor(request),
)

/** `{ response, client }`: the changed object and the device's client after the change. */
export async function envelope<T>(env: EnvContext, actor: ClientActor, response: T | Promise<T>) {
  const value = await response
  return { response: value, client: actor.client ? toClientResource(env, actor.client) : null }
}
