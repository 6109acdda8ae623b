import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { browser } from '../../helpers/browser'
import { createHarness, type Harness } from '../../helpers/harness'
import { bapiJson, createUser, emailOf, expectError, ok, PASSWORD, signedIn, signIn } from '../support'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

const mint = (b: ReturnType<typeof browser>, sid: string) =>
  b.json('POST', `/v1/client/sessions/${sid}/tokens`)

describe('what ends a user’s sessions', () => {
  it('a lock through BAPI revokes them, as a ban does', async () => {
    const { b, user, sid } = await signedIn(h)
    ok(await mint(b, sid))
    ok(await bapiJson(h, 'POST', `/v1/users/${user.id}/lock`))
    expectError(await mint(b, sid), 401, 'session_token_refused')
    expect(ok(await bapiJson(h, 'GET', `/v1/sessions/${sid}`)).status).toBe('revoked')
  })

  it('a BAPI password change with sign_out_of_other_sessions revokes them; without it they stay', async () => {
    const { b, user, sid } = await signedIn(h)
    ok(await bapiJson(h, 'PATCH', `/v1/users/${user.id}`, { password: 'another long password' }))
    ok(await mint(b, sid))
    ok(
      await bapiJson(h, 'PATCH', `/v1/users/${user.id}`, {
        password: 'yet another long password',
        sign_out_of_other_sessions: true,
      }),
    )
    expectError(await mint(b, sid), 401, 'session_token_refused')
  })

  it('/v1/me/change-password with sign_out_of_other_sessions keeps only the current session', async () => {
    const user = await createUser(h)
    const here = browser(h)
    const elsewhere = browser(h)
    const mine = await signIn(here, emailOf(user))
    const other = await signIn(elsewhere, emailOf(user))
    ok(
      await here.json('POST', '/v1/me/change-password', {
        current_password: PASSWORD,
        new_password: 'a brand new password',
        sign_out_of_other_sessions: true,
      }),
    )
    ok(await mint(here, mine))
    expectError(await mint(elsewhere, other), 401, 'session_token_refused')
  })

  it('wrong current passwords count toward the lockout', async () => {
    const { b, user } = await signedIn(h)
    const max = ok(await bapiJson(h, 'GET', '/v1/instance')).lockout.max_attempts as number
    for (let i = 1; i < max; i++)
      expectError(
        await b.json('POST', '/v1/me/change-password', {
          current_password: 'not it',
          new_password: 'a brand new one',
        }),
        422,
        'form_password_incorrect',
        'current_password',
      )
    expectError(
      await b.json('POST', '/v1/me/change-password', {
        current_password: 'not it',
        new_password: 'a brand new one',
      }),
      403,
      'user_locked',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).locked).toBe(true)
    // Locked: even the right one is refused now.
    expectError(
      await b.json('POST', '/v1/me/change-password', {
        current_password: PASSWORD,
        new_password: 'a brand new one',
      }),
      403,
      'user_locked',
    )
  })
})
