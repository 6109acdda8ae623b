import { eq } from 'drizzle-orm'
import { signClientToken, verifyClientToken } from '../../crypto/client-token'
import { constantTimeEqual, randomToken, sha256Hex } from '../../crypto/secrets'
import { type ListQuery, pageOf, tablePage } from '../../db/pages'
import { notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { listClientSessions, toBapiSession } from '../sessions/service'
import { type ClientRow, clients } from './schema'

/**
 * Who is calling the Frontend API: the device's client (null until one is made), and facts of
 * the request that flows record. Services set `rotatedSecret` when they rotate the client's
 * token; the HTTP layer then sends the new token (cookie or Authorization header).
 */
export interface ClientActor {
  client: ClientRow | null
  ip: string | null
  userAgent: string | null
  /** The request's Origin header (session tokens' `azp`). */
  origin: string | null
  /** scheme://host[:port] the request reached, for links back to this Frontend API. */
  frontendUrl: string
  /** The session a `/v1/me` call names (`?_authn_session_id=`); else the last active one. */
  sessionId: string | null
  rotatedSecret?: string
}

interface ClientSqlRow {
  id: string
  rotating_token_hash: string
  sign_in_id: string | null
  sign_up_id: string | null
  last_active_session_id: string | null
  last_authentication_strategy: string | null
  created_at: number
  updated_at: number
}

/** Every Frontend API call resolves its client: a raw prepared statement (see findUser). */
export function findClient(ctx: EnvContext, id: string): ClientRow | null {
  if (!isId('client', id)) return null
  const r = ctx
    .prepared('clients.byId', () =>
      ctx.client.query<ClientSqlRow, [string]>('select * from clients where id = ?'),
    )
    .get(id)
  return r
    ? {
        id: r.id,
        rotatingTokenHash: r.rotating_token_hash,
        signInId: r.sign_in_id,
        signUpId: r.sign_up_id,
        lastActiveSessionId: r.last_active_session_id,
        lastAuthenticationStrategy: r.last_authentication_strategy,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    : null
}

/** The client a token names, if the token is genuine and its rotating secret is current. */
export function clientFromToken(ctx: EnvContext, token: string): ClientRow | null {
  const claims = verifyClientToken(ctx.dataKey, token)
  if (!claims) return null
  const client = findClient(ctx, claims.cid)
  if (!client || !constantTimeEqual(client.rotatingTokenHash, claims.rotHash)) return null
  return client
}

export const clientToken = (ctx: EnvContext, clientId: string, secret: string) =>
  signClientToken(ctx.dataKey, { cid: clientId, rot: secret }, ctx.clock.now())

/** Makes the actor's client if it has none yet (in the caller's transaction). */
export function ensureClient(tx: EnvTx, ctx: EnvContext, actor: ClientActor): ClientRow {
  if (actor.client) return actor.client
  const now = ctx.clock.now()
  const secret = randomToken(24)
  const row: ClientRow = {
    id: newId('client'),
    rotatingTokenHash: sha256Hex(secret),
    signInId: null,
    signUpId: null,
    lastActiveSessionId: null,
    lastAuthenticationStrategy: null,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(clients).values(row).run()
  actor.client = row
  actor.rotatedSecret = secret
  return row
}

/** New rotating secret: an old copy of the client token stops working (session fixation). */
export function rotateClient(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor,
  changes: Partial<ClientRow> = {},
): ClientRow {
  const client = actor.client
  if (!client) throw new Error('rotateClient without a client')
  const secret = randomToken(24)
  const updated = { ...client, ...changes, rotatingTokenHash: sha256Hex(secret), updatedAt: ctx.clock.now() }
  tx.update(clients)
    .set({ ...changes, rotatingTokenHash: updated.rotatingTokenHash, updatedAt: updated.updatedAt })
    .where(eq(clients.id, client.id))
    .run()
  actor.client = updated
  actor.rotatedSecret = secret
  return updated
}

export function updateClient(
  tx: EnvTx,
  ctx: EnvContext,
  actor: ClientActor,
  changes: Partial<ClientRow>,
): ClientRow {
  const client = actor.client
  if (!client) throw new Error('updateClient without a client')
  const updated = { ...client, ...changes, updatedAt: ctx.clock.now() }
  tx.update(clients)
    .set({ ...changes, updatedAt: updated.updatedAt })
    .where(eq(clients.id, client.id))
    .run()
  actor.client = updated
  return updated
}

/**
 * Points another device's client at a new session (a magic link opened elsewhere completes the
 * client that asked for it, without touching its token).
 */
export function updateClientById(tx: EnvTx, ctx: EnvContext, clientId: string, changes: Partial<ClientRow>) {
  tx.update(clients)
    .set({ ...changes, updatedAt: ctx.clock.now() })
    .where(eq(clients.id, clientId))
    .run()
}

/** BAPI view: the sessions (and their ids); the sign-in and sign-up by id. */
export function toBapiClient(ctx: EnvContext, client: ClientRow) {
  const now = ctx.clock.now()
  const sessions = listClientSessions(ctx.db, client.id)
  return {
    object: 'client' as const,
    id: client.id,
    session_ids: sessions.map((s) => s.id),
    sessions: sessions.map((s) => toBapiSession(s, now)),
    sign_in_id: client.signInId,
    sign_up_id: client.signUpId,
    last_active_session_id: client.lastActiveSessionId,
    last_authentication_strategy: client.lastAuthenticationStrategy,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  }
}

/** Clients newest first (Clerk's SDK still offers the deprecated `getClientList`). */
export function listBapiClients(ctx: EnvContext, q: ListQuery) {
  const page = tablePage(ctx, clients, undefined, q)
  return pageOf(
    page.rows.map((c) => toBapiClient(ctx, c)),
    page.next_cursor,
    page.total,
  )
}

export function getBapiClient(ctx: EnvContext, id: string) {
  const client = findClient(ctx, id)
  if (!client) throw notFound('client')
  return toBapiClient(ctx, client)
}

/** BAPI: a backend holding a client token (e.g. from a native app) asks what it belongs to. */
export async function verifyClient(ctx: EnvContext, token: string) {
  const client = await clientFromToken(ctx, token)
  if (!client) throw notFound('client')
  return toBapiClient(ctx, client)
}
