// 2. "Session token refresh" mock on our intended stack: Elysia + bun:sqlite (via drizzle-orm) + jose.
//   POST /auth/refresh          cookie sid=<id> -> session row lookup (drizzle prepared) -> ES256 JWT (~11 claims, jose)
//   POST /auth/refresh-touch    same + UPDATE sessions SET last_seen_at (1 autocommit write, WAL sync=NORMAL)
//   POST /auth/refresh-nodesign same lookup, JWT signed synchronously with node:crypto instead of jose/WebCrypto
//   GET  /.well-known/jwks.json precomputed JWKS (static JSON body)
// Decomposition endpoints (same request shape, parts left out):
//   POST /parts/cookie  read the cookie only, answer a precomputed token body of the same size (no DB, no signing)
//   POST /parts/lookup  cookie + session lookup, precomputed token body (no signing)
//   POST /parts/sign    cookie + jose ES256 signing, no lookup

import { Database } from 'bun:sqlite'
import * as nodeCrypto from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { Elysia } from 'elysia'
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { claimsFor } from './claims'
import { DDL, sessionId, sessions } from './schema'

const port = Number(process.env.PORT ?? 3003)
const N = Number(process.env.SESSIONS ?? 100_000)
const dir = (process.env.MOCK_DATA ?? `${(await import('node:os')).tmpdir()}/authn-refresh-mock`) + '/'
mkdirSync(dir, { recursive: true })
const file = dir + 'refresh.sqlite'
const fresh = !existsSync(file)
const db = new Database(file, { create: true, strict: true })
db.exec('PRAGMA journal_mode=WAL')
db.exec('PRAGMA synchronous=NORMAL')
db.exec('PRAGMA busy_timeout=5000')
db.exec(DDL)
if (fresh) {
  const now = Math.floor(Date.now() / 1000)
  const ins = db.prepare(
    'INSERT INTO sessions (id,user_id,email,scope,created_at,expires_at,user_agent) VALUES (?,?,?,?,?,?,?)',
  )
  db.transaction(() => {
    for (let i = 0; i < N; i++)
      ins.run(
        sessionId(i),
        `user-${i}`,
        `user-${i}@example.test`,
        'openid profile email offline_access',
        now,
        now + 86400 * 365,
        'seed',
      )
  })()
  // the wrk script picks session ids from this file
  writeFileSync(
    dir + 'refresh-sids.txt',
    Array.from({ length: 1000 }, (_, i) => sessionId(i * 97)).join('\n') + '\n',
  )
}
const orm = drizzle(db, { schema: { sessions } })
const findSession = orm
  .select()
  .from(sessions)
  .where(eq(sessions.id, sql.placeholder('id')))
  .prepare()
const touchSession = orm
  .update(sessions)
  // biome-ignore lint/suspicious/noExplicitAny: the steering side's mock, kept as written
  .set({ lastSeenAt: sql.placeholder('now') as any })
  .where(eq(sessions.id, sql.placeholder('id')))
  .prepare()

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
const kid = 'bench-es256-1'
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }
const jwksBody = JSON.stringify(jwks)
const nodeKey = nodeCrypto.KeyObject.from(privateKey)
const hdr = base64url.encode(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid }))

// biome-ignore lint/suspicious/noExplicitAny: the steering side's mock, kept as written
const unauthorized = (set: any) => {
  set.status = 401
  return { error: 'invalid_session' }
}
const lookup = (sid: string | undefined) => {
  if (!sid) return undefined
  const row = findSession.get({ id: sid })
  if (!row || row.expiresAt * 1000 < Date.now()) return undefined
  return row
}
const tokenResponse = (access_token: string) => ({ access_token, token_type: 'Bearer', expires_in: 900 })
const cannedJwt = await new SignJWT(claimsFor('user-0', 'canned-session-id-000000000000000'))
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
  .sign(privateKey)

new Elysia()
  .post('/auth/refresh', async ({ cookie: { sid }, set }) => {
    const row = lookup(sid?.value as string | undefined)
    if (!row) return unauthorized(set)
    set.headers['cache-control'] = 'no-store'
    const jwt = await new SignJWT(claimsFor(row.userId, row.id))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey)
    return tokenResponse(jwt)
  })
  .post('/auth/refresh-touch', async ({ cookie: { sid }, set }) => {
    const row = lookup(sid?.value as string | undefined)
    if (!row) return unauthorized(set)
    touchSession.run({ id: row.id, now: Math.floor(Date.now() / 1000) })
    set.headers['cache-control'] = 'no-store'
    const jwt = await new SignJWT(claimsFor(row.userId, row.id))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey)
    return tokenResponse(jwt)
  })
  .post('/auth/refresh-nodesign', ({ cookie: { sid }, set }) => {
    const row = lookup(sid?.value as string | undefined)
    if (!row) return unauthorized(set)
    set.headers['cache-control'] = 'no-store'
    const input = hdr + '.' + base64url.encode(JSON.stringify(claimsFor(row.userId, row.id)))
    const sig = nodeCrypto.sign('sha256', Buffer.from(input), { key: nodeKey, dsaEncoding: 'ieee-p1363' })
    return tokenResponse(input + '.' + base64url.encode(sig))
  })
  .post('/parts/cookie', ({ cookie: { sid }, set }) => {
    if (!sid?.value) return unauthorized(set)
    set.headers['cache-control'] = 'no-store'
    return tokenResponse(cannedJwt)
  })
  .post('/parts/lookup', ({ cookie: { sid }, set }) => {
    const row = lookup(sid?.value as string | undefined)
    if (!row) return unauthorized(set)
    set.headers['cache-control'] = 'no-store'
    return tokenResponse(cannedJwt)
  })
  .post('/parts/sign', async ({ cookie: { sid }, set }) => {
    const id = sid?.value as string | undefined
    if (!id) return unauthorized(set)
    set.headers['cache-control'] = 'no-store'
    const jwt = await new SignJWT(claimsFor('user-0', id))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey)
    return tokenResponse(jwt)
  })
  .get(
    '/.well-known/jwks.json',
    () =>
      new Response(jwksBody, {
        headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
      }),
  )
  .listen({ port, hostname: '127.0.0.1' })
console.log(`refresh mock listening on 127.0.0.1:${port} (sessions: ${N}, fresh db: ${fresh})`)
