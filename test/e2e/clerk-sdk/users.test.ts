import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { isClerkAPIResponseError } from '@clerk/backend/errors'
import { PASSWORD, type SdkWorld, sdkWorld, uniqueEmail } from './support'

let w: SdkWorld
beforeAll(async () => {
  w = await sdkWorld()
})
afterAll(() => w.close())

/** The SDK's error for a call that must fail, with what it deserialised. */
async function refused(call: Promise<unknown>) {
  try {
    await call
  } catch (err) {
    if (isClerkAPIResponseError(err)) return err
    throw err
  }
  throw new Error('the call succeeded')
}

describe('@clerk/backend users', () => {
  it('creates, gets, updates and deletes a user, reading every field through the SDK classes', async () => {
    const email = uniqueEmail()
    const created = await w.clerk.users.createUser({
      emailAddress: [email],
      password: PASSWORD,
      firstName: 'Ada',
      lastName: 'Lovelace',
      externalId: `ext-${process.pid}`,
      publicMetadata: { plan: 'pro' },
      privateMetadata: { tier: 3 },
    })
    expect(created.id).toMatch(/^user_/)
    expect(created.firstName).toBe('Ada')
    expect(created.fullName).toBe('Ada Lovelace')
    expect(created.externalId).toBe(`ext-${process.pid}`)
    expect(created.passwordEnabled).toBe(true)
    expect(created.banned).toBe(false)
    expect(created.locked).toBe(false)
    expect(created.publicMetadata).toEqual({ plan: 'pro' })
    expect(created.privateMetadata).toEqual({ tier: 3 })
    expect(created.createdAt).toBe(w.h.clock.now())
    expect(created.emailAddresses).toHaveLength(1)
    expect(created.primaryEmailAddress?.emailAddress).toBe(email)
    expect(created.primaryEmailAddress?.verification?.status).toBe('verified')
    expect(created.primaryEmailAddress?.linkedTo).toEqual([])

    const got = await w.clerk.users.getUser(created.id)
    expect(got.id).toBe(created.id)
    expect(got.primaryEmailAddressId).toBe(created.primaryEmailAddressId)

    const updated = await w.clerk.users.updateUser(created.id, {
      firstName: 'Augusta',
      lastName: null as never,
    })
    expect(updated.firstName).toBe('Augusta')
    expect(updated.lastName).toBeNull()

    const merged = await w.clerk.users.updateUserMetadata(created.id, {
      publicMetadata: { seats: 5 },
      privateMetadata: { tier: null },
    })
    expect(merged.publicMetadata).toEqual({ plan: 'pro', seats: 5 })
    expect(merged.privateMetadata).toEqual({})

    const deleted = await w.clerk.users.deleteUser(created.id)
    // Typed as a User by the SDK; at run time its DeletedObject.
    expect({ ...deleted }).toEqual({ object: 'user', id: created.id, slug: null, deleted: true } as never)

    const gone = await refused(w.clerk.users.getUser(created.id))
    expect(gone.status).toBe(404)
    expect(gone.errors[0]?.code).toBe('resource_not_found')
    expect(gone.clerkTraceId).toMatch(/^[a-f0-9]{32}$/)
  })

  it('reports a refused creation with its errors array, code, param name and trace id', async () => {
    const email = uniqueEmail()
    await w.clerk.users.createUser({ emailAddress: [email], password: PASSWORD })
    const err = await refused(w.clerk.users.createUser({ emailAddress: [email], password: PASSWORD }))
    expect(err.status).toBe(422)
    expect(err.errors[0]?.code).toBe('form_identifier_exists')
    expect(err.errors[0]?.meta?.paramName).toBe('email_address')
    expect(err.errors[0]?.longMessage).toBeString()
    expect(err.clerkTraceId).toMatch(/^[a-f0-9]{32}$/)
  })

  it('lists a user’s provider access tokens (oauth_access_tokens): none without a linked account', async () => {
    const u = await w.clerk.users.createUser({ emailAddress: [uniqueEmail()], password: PASSWORD })
    const tokens = await w.clerk.users.getUserOauthAccessToken(u.id, 'google')
    expect(tokens.data).toEqual([])
    expect(tokens.totalCount).toBe(0)
  })

  it('bans, unbans, locks and unlocks', async () => {
    const u = await w.clerk.users.createUser({ emailAddress: [uniqueEmail()], password: PASSWORD })
    expect((await w.clerk.users.banUser(u.id)).banned).toBe(true)
    expect((await w.clerk.users.unbanUser(u.id)).banned).toBe(false)
    expect((await w.clerk.users.lockUser(u.id)).locked).toBe(true)
    expect((await w.clerk.users.unlockUser(u.id)).locked).toBe(false)
  })

  it('lists with filters, offsets, limits and the total count', async () => {
    const tag = `list${process.pid}`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      w.h.clock.advance(1000)
      const u = await w.clerk.users.createUser({
        emailAddress: [uniqueEmail(tag)],
        password: PASSWORD,
        externalId: `${tag}-${i}`,
      })
      ids.push(u.id)
    }
    const all = await w.clerk.users.getUserList({ query: tag })
    expect(all.totalCount).toBe(5)
    expect(all.data.map((u) => u.id)).toEqual([...ids].reverse())

    const page = await w.clerk.users.getUserList({ query: tag, limit: 2, offset: 2 })
    expect(page.totalCount).toBe(5)
    expect(page.data.map((u) => u.id)).toEqual([ids[2]!, ids[1]!])

    const oldest = await w.clerk.users.getUserList({ query: tag, orderBy: '+created_at', limit: 1 })
    expect(oldest.data.map((u) => u.id)).toEqual([ids[0]!])

    const byExternal = await w.clerk.users.getUserList({ externalId: [`${tag}-1`, `${tag}-3`] })
    expect(byExternal.data.map((u) => u.externalId).sort()).toEqual([`${tag}-1`, `${tag}-3`])
    expect(byExternal.totalCount).toBe(2)

    expect(await w.clerk.users.getCount({ query: tag })).toBe(5)
  })
})
