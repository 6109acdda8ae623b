import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { isClerkAPIResponseError } from '@clerk/backend/errors'
import { browser } from '../../helpers/browser'
import { PASSWORD, type SdkWorld, sdkWorld, uniqueEmail } from './support'

let w: SdkWorld
beforeAll(async () => {
  w = await sdkWorld()
})
afterAll(() => w.close())

async function refused(call: Promise<unknown>) {
  try {
    await call
  } catch (err) {
    if (isClerkAPIResponseError(err)) return err
    throw err
  }
  throw new Error('the call succeeded')
}

describe('@clerk/backend verify_password (an alias of verify-password)', () => {
  it('answers verified, or 422 incorrect_password in the errors array', async () => {
    const u = await w.clerk.users.createUser({ emailAddress: [uniqueEmail()], password: PASSWORD })
    expect(await w.clerk.users.verifyPassword({ userId: u.id, password: PASSWORD })).toEqual({
      verified: true,
    })
    const wrong = await refused(w.clerk.users.verifyPassword({ userId: u.id, password: 'not it at all' }))
    expect(wrong.status).toBe(422)
    expect(wrong.errors[0]?.code).toBe('incorrect_password')
  })
})

describe('@clerk/backend sign-in tokens (/v1/sign_in_tokens)', () => {
  it('creates a token a browser signs in with, and revokes another', async () => {
    const u = await w.clerk.users.createUser({ emailAddress: [uniqueEmail()], password: PASSWORD })
    const token = await w.clerk.signInTokens.createSignInToken({ userId: u.id, expiresInSeconds: 600 })
    expect(token.id).toBeString()
    expect(token.userId).toBe(u.id)
    expect(token.status).toBe('pending')
    expect(token.token).toBeString()
    expect(token.url).toContain(token.token)
    expect(token.createdAt).toBe(w.h.clock.now())

    const b = browser(w.h)
    const signIn = await b.json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: token.token })
    expect(signIn.body.response?.status).toBe('complete')

    const other = await w.clerk.signInTokens.createSignInToken({ userId: u.id, expiresInSeconds: 600 })
    const revoked = await w.clerk.signInTokens.revokeSignInToken(other.id)
    expect(revoked.id).toBe(other.id)
    expect(revoked.status).toBe('revoked')
  })
})

describe('@clerk/backend JWT templates (/v1/jwt_templates)', () => {
  it('creates, lists, gets, updates and deletes templates', async () => {
    const created = await w.clerk.jwtTemplates.create({
      name: `sdk-${process.pid}`,
      claims: { email: '{{user.primary_email_address}}', plan: 'pro' },
      lifetime: 120,
      allowedClockSkew: 10,
    })
    expect(created.id).toBeString()
    expect(created.name).toBe(`sdk-${process.pid}`)
    expect(created.claims).toEqual({ email: '{{user.primary_email_address}}', plan: 'pro' })
    expect(created.lifetime).toBe(120)
    expect(created.allowedClockSkew).toBe(10)
    expect(created.createdAt).toBe(w.h.clock.now())

    const list = await w.clerk.jwtTemplates.list({ limit: 10 })
    expect(list.totalCount).toBe(1)
    expect(list.data.map((t) => t.id)).toEqual([created.id])

    expect((await w.clerk.jwtTemplates.get(created.id)).name).toBe(created.name)
    const updated = await w.clerk.jwtTemplates.update({
      templateId: created.id,
      name: created.name,
      claims: { plan: 'team' },
      lifetime: 300,
    })
    expect(updated.lifetime).toBe(300)
    expect(updated.claims).toEqual({ plan: 'team' })

    const deleted = await w.clerk.jwtTemplates.delete(created.id)
    expect({ ...deleted }).toEqual({ object: 'jwt_template', id: created.id, slug: null, deleted: true })
    const gone = await refused(w.clerk.jwtTemplates.get(created.id))
    expect(gone.status).toBe(404)
  })
})

describe('@clerk/backend invitations', () => {
  it('creates, lists (paginated) and revokes invitations', async () => {
    const email = uniqueEmail('invite')
    const inv = await w.clerk.invitations.createInvitation({
      emailAddress: email,
      publicMetadata: { team: 'red' },
      notify: false,
    })
    expect(inv.id).toBeString()
    expect(inv.emailAddress).toBe(email)
    expect(inv.publicMetadata).toEqual({ team: 'red' })
    expect(inv.status).toBe('pending')
    expect(inv.revoked).toBe(false)
    expect(inv.url).toBeString()

    const list = await w.clerk.invitations.getInvitationList({ status: 'pending' })
    expect(list.totalCount).toBe(1)
    expect(list.data.map((i) => i.id)).toEqual([inv.id])

    const revoked = await w.clerk.invitations.revokeInvitation(inv.id)
    expect(revoked.status).toBe('revoked')
    expect(revoked.revoked).toBe(true)
    expect((await w.clerk.invitations.getInvitationList({ status: 'pending' })).totalCount).toBe(0)
  })
})
