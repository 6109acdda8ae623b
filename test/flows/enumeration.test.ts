import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { createUser, emailOf, expectError, messages, ok, PASSWORD, patchInstance } from './support'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

describe('enumeration protection', () => {
  it('an unknown identifier costs a password sign-in the same hash a known one does', async () => {
    await patchInstance(h, { enumeration_protection: true })
    const user = await createUser(h)
    // Every verification the hashing queue runs goes through Bun.password.verify.
    const verified: string[] = []
    const verify = Bun.password.verify
    Bun.password.verify = (password, digest, algorithm) => {
      verified.push(String(digest))
      return verify(password, digest, algorithm)
    }
    try {
      const unknown = await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: 'nobody-here@example.com',
        password: 'wrong horse battery',
      })
      expectError(unknown, 422, 'form_password_or_identifier_incorrect')
      const known = await browser(h).json('POST', '/v1/client/sign-ins', {
        identifier: emailOf(user),
        password: 'wrong horse battery',
      })
      expectError(known, 422, 'form_password_or_identifier_incorrect')
      expect(verified).toHaveLength(2)
      // Both ran a real argon2id verification, not a shortcut.
      for (const d of verified) expect(d).toStartWith('$argon2id$')
    } finally {
      Bun.password.verify = verify
      await patchInstance(h, { enumeration_protection: false })
    }
  })
})

describe('enumeration protection at sign-up', () => {
  it('an address that has an account is not revealed: the sign-up goes on and can never verify it', async () => {
    const user = await createUser(h)
    const email = emailOf(user)
    await patchInstance(h, { enumeration_protection: true })
    try {
      const b = browser(h)
      const up = ok(await b.json('POST', '/v1/client/sign-ups', { email_address: email, password: PASSWORD }))
      expect(up.response).toMatchObject({
        status: 'missing_requirements',
        unverified_fields: ['email_address'],
      })
      const before = (await messages(h)).length
      const c = ok(
        await b.json('POST', `/v1/client/sign-ups/${up.response.id}/challenges`, { strategy: 'email_code' }),
      )
      expect(c.response).toMatchObject({ strategy: 'email_code', status: 'unverified' })
      const sent = (await messages(h)).slice(0, (await messages(h)).length - before)
      // The owner is told; no code goes out.
      expect(sent.map((m: { template: string; to: string }) => [m.template, m.to])).toEqual([
        ['sign_up_existing_account', email],
      ])
      expectError(
        await b.json('POST', `/v1/client/sign-ups/${up.response.id}/challenges/${c.response.id}/answer`, {
          code: '123456',
        }),
        422,
        'form_code_incorrect',
      )
    } finally {
      await patchInstance(h, { enumeration_protection: false })
    }
    // Without protection the address is reported taken, as before.
    expectError(
      await browser(h).json('POST', '/v1/client/sign-ups', { email_address: email, password: PASSWORD }),
      422,
      'form_identifier_exists',
    )
  })
})
