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
