import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
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
