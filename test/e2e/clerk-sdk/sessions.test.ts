import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { verifyToken } from '@clerk/backend'
import type { JWK } from 'jose'
import { browserSignIn, PASSWORD, type SdkWorld, sdkWorld, uniqueEmail } from './support'

let w: SdkWorld
beforeAll(async () => {
  w = await sdkWorld()
})
afterAll(() => w.close())

async function signedInUser() {
  const email = uniqueEmail('sess')
  const user = await w.clerk.users.createUser({ emailAddress: [email], password: PASSWORD })
  const signed = await browserSignIn(w.h, email)
  return { user, ...signed }
}

describe('@clerk/backend clients', () => {
  it('gets a client with its sessions in full, and finds it again from its token', async () => {
    const { user, sid, clientId, b } = await signedInUser()
    const client = await w.clerk.clients.getClient(clientId)
    expect(client.id).toBe(clientId)
    expect(client.sessionIds).toEqual([sid])
    expect(client.lastActiveSessionId).toBe(sid)
    expect(client.lastAuthenticationStrategy).toBe('password')
    expect(client.signInId).toMatch(/^sia_/)
    expect(client.sessions).toHaveLength(1)
    const [session] = client.sessions
    expect(session?.id).toBe(sid)
    expect(session?.userId).toBe(user.id)
    expect(session?.clientId).toBe(clientId)
    expect(session?.status).toBe('active')
    expect(session?.expireAt).toBeGreaterThan(w.h.clock.now())

    const listed = await w.clerk.clients.getClientList({ limit: 1 })
    expect(listed.totalCount).toBeGreaterThanOrEqual(1)
    expect(listed.data.map((c) => c.id)).toEqual([clientId])

    const verified = await w.clerk.clients.verifyClient(b.cookie!)
    expect(verified.id).toBe(clientId)
    expect(verified.sessions.map((s) => s.id)).toEqual([sid])
  })
})

describe('@clerk/backend sessions', () => {
  it('lists (paginated, with offsets and the total), gets and revokes sessions', async () => {
    const email = uniqueEmail('many')
    const user = await w.clerk.users.createUser({ emailAddress: [email], password: PASSWORD })
    const sids: string[] = []
    for (let i = 0; i < 3; i++) {
      w.h.clock.advance(1000)
      sids.push((await browserSignIn(w.h, email)).sid)
    }
    const list = await w.clerk.sessions.getSessionList({ userId: user.id })
    expect(list.totalCount).toBe(3)
    expect(list.data.map((s) => s.id)).toEqual([...sids].reverse())
    expect(list.data.every((s) => s.userId === user.id && s.status === 'active')).toBe(true)

    const second = await w.clerk.sessions.getSessionList({ userId: user.id, limit: 1, offset: 1 })
    expect(second.totalCount).toBe(3)
    expect(second.data.map((s) => s.id)).toEqual([sids[1]!])

    const one = await w.clerk.sessions.getSession(sids[0]!)
    expect(one.id).toBe(sids[0]!)
    expect(one.lastActiveAt).toBeNumber()
    expect(one.latestActivity?.ipAddress).toBe('127.0.0.1')

    const revoked = await w.clerk.sessions.revokeSession(sids[0]!)
    expect(revoked.status).toBe('revoked')
    const active = await w.clerk.sessions.getSessionList({ userId: user.id, status: 'active' })
    expect(active.totalCount).toBe(2)
  })
})

describe('@clerk/backend session tokens', () => {
  it('mints a session token (POST /v1/sessions/{id}/tokens) that verifyToken accepts, networked and networkless', async () => {
    const { user, sid } = await signedInUser()
    const token = await w.clerk.sessions.getToken(sid)
    expect(token.jwt.split('.')).toHaveLength(3)

    const networked = await verifyToken(token.jwt, { secretKey: w.h.env.secretKey, apiUrl: w.apiUrl })
    expect(networked.sub).toBe(user.id)
    expect(networked.sid).toBe(sid)

    const jwks = await w.clerk.jwks.getJwks()
    expect(jwks.keys?.length).toBeGreaterThan(0)
    const { kid } = JSON.parse(Buffer.from(token.jwt.split('.')[0]!, 'base64url').toString())
    const pem = await publicPem(jwks.keys!.find((k) => k.kid === kid)! as JWK)
    const networkless = await verifyToken(token.jwt, { jwtKey: pem })
    expect(networkless.sid).toBe(sid)
  })

  it('mints a template token (…/tokens/{template}) with the template claims, and refuses unknown ones', async () => {
    const { user, sid } = await signedInUser()
    await w.clerk.jwtTemplates.create({
      name: `tpl-${sid.slice(-6)}`,
      claims: { aud: 'api', uid: '{{user.id}}' },
    })
    const token = await w.clerk.sessions.getToken(sid, `tpl-${sid.slice(-6)}`)
    const claims = JSON.parse(Buffer.from(token.jwt.split('.')[1]!, 'base64url').toString())
    expect(claims).toMatchObject({ sub: user.id, aud: 'api', uid: user.id })

    let status = 0
    await w.clerk.sessions.getToken(sid, 'no-such-template').catch((e) => {
      status = e.status
    })
    expect(status).toBe(404)
  })
})

/** The SPKI PEM of a JWK, as a dashboard shows the instance's public key. */
async function publicPem(jwk: JWK) {
  const key = await crypto.subtle.importKey(
    'jwk',
    jwk,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    true,
    ['verify'],
  )
  const der = Buffer.from(await crypto.subtle.exportKey('spki', key)).toString('base64')
  return `-----BEGIN PUBLIC KEY-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----`
}
