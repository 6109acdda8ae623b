import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { findUser, loadUser } from '../../src/domain/users/service'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
  // Usernames and phones are off by default; this suite exercises every identifier.
  const res = await h.bapi('PATCH', '/v1/instance', {
    identifiers: { username: { enabled: true }, phone_number: { enabled: true } },
  })
  expect(res.status).toBe(200)
})
afterAll(() => h.close())

const PASSWORD = 'correct horse battery'
let seq = 0
async function createUser(extra: Record<string, unknown> = {}) {
  const res = await h.bapi('POST', '/v1/users', {
    email_address: [`user${++seq}@example.com`],
    password: PASSWORD,
    ...extra,
  })
  const b = await body(res)
  if (res.status !== 200) throw new Error(JSON.stringify(b))
  return b
}
const events = async (type: string) =>
  (await body(await h.bapi('GET', `/v1/events?type=${type}&limit=100`))).data

describe('POST /v1/users', () => {
  it('creates a user with every identifier, names, metadata and a hashed password', async () => {
    const u = await createUser({
      email_address: ['Ada@Example.COM', 'ada2@example.com'],
      phone_number: ['+1 (415) 555-0100'],
      username: 'Ada_L',
      first_name: 'Ada',
      last_name: 'Lovelace',
      external_id: 'ext-ada',
      public_metadata: { plan: 'pro' },
      private_metadata: { stripe: 'cus_1' },
      unsafe_metadata: { theme: 'dark' },
    })
    expect(u).toMatchObject({
      object: 'user',
      username: 'ada_l',
      first_name: 'Ada',
      last_name: 'Lovelace',
      external_id: 'ext-ada',
      password_enabled: true,
      public_metadata: { plan: 'pro' },
      private_metadata: { stripe: 'cus_1' },
      unsafe_metadata: { theme: 'dark' },
      banned: false,
      locked: false,
      last_sign_in_at: null,
      created_at: h.clock.now(),
    })
    expect(u.id).toMatch(/^user_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(u.email_addresses.map((e: any) => e.email_address)).toEqual([
      'ada@example.com',
      'ada2@example.com',
    ])
    expect(u.primary_email_address_id).toBe(u.email_addresses[0].id)
    expect(u.email_addresses[0].verification).toEqual({ status: 'verified', strategy: 'admin' })
    expect(u.phone_numbers[0].phone_number).toBe('+14155550100')
    expect(u.primary_phone_number_id).toBe(u.phone_numbers[0].id)
    expect(JSON.stringify(u)).not.toContain(PASSWORD)
    expect(JSON.stringify(u)).not.toContain('argon2')
    const stored = h.ctx((ctx) =>
      ctx.client.query('SELECT password_digest FROM users WHERE id = ?').get(u.id),
    ) as {
      password_digest: string
    }
    expect(stored.password_digest).toStartWith('$argon2id$')
    const created = await events('user.created')
    expect(created.find((e: any) => e.data.id === u.id)?.data.email_addresses[0].email_address).toBe(
      'ada@example.com',
    )
  })

  it('treats emails and usernames case-insensitively for uniqueness', async () => {
    await createUser({ email_address: ['Unique@Example.com'], username: 'unique_one' })
    for (const [field, value] of [
      ['email_address', ['UNIQUE@example.com']],
      ['username', 'UNIQUE_ONE'],
    ] as const) {
      const res = await h.bapi('POST', '/v1/users', {
        email_address: [`other${++seq}@example.com`],
        password: PASSWORD,
        [field]: value,
      })
      expect(res.status).toBe(422)
      const b = await body(res)
      expect(b.errors[0]).toMatchObject({ code: 'form_identifier_exists', meta: { param_name: field } })
    }
  })

  it('rejects duplicate phone numbers and external ids', async () => {
    await createUser({ phone_number: ['+14155550199'], external_id: 'dup-ext' })
    const phone = await h.bapi('POST', '/v1/users', {
      email_address: ['p1@example.com'],
      password: PASSWORD,
      phone_number: ['+1 415 555 0199'],
    })
    expect((await body(phone)).errors[0].meta.param_name).toBe('phone_number')
    const ext = await h.bapi('POST', '/v1/users', {
      email_address: ['p2@example.com'],
      password: PASSWORD,
      external_id: 'dup-ext',
    })
    expect((await body(ext)).errors[0].meta.param_name).toBe('external_id')
  })

  it('enforces the password policy and the required identifiers', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [
        { email_address: ['a1@example.com'], password: 'short' },
        'form_password_length_too_short',
        'password',
      ],
      [{ email_address: ['a2@example.com'] }, 'form_param_missing', 'password'],
      [{ password: PASSWORD }, 'form_param_missing', 'email_address'],
      [{ email_address: ['not an email'], password: PASSWORD }, 'form_param_format_invalid', 'email_address'],
      [
        { email_address: ['a3@example.com'], password: PASSWORD, phone_number: ['12345'] },
        'form_param_format_invalid',
        'phone_number',
      ],
      [
        { email_address: ['a4@example.com'], password: PASSWORD, username: '12345' },
        'form_username_needs_non_number_char',
        'username',
      ],
      [
        { email_address: ['a5@example.com'], password: PASSWORD, username: 'no spaces' },
        'form_username_invalid_character',
        'username',
      ],
      [
        { email_address: ['a6@example.com', 'A6@example.com'], password: PASSWORD },
        'form_param_duplicate',
        'email_address',
      ],
    ]
    for (const [input, code, param] of cases) {
      const res = await h.bapi('POST', '/v1/users', input)
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0]).toMatchObject({ code, meta: { param_name: param } })
    }
    // skip flags: an operator import may bypass the policy and the password requirement
    expect(
      (
        await h.bapi('POST', '/v1/users', {
          email_address: ['weak@example.com'],
          password: 'short',
          skip_password_checks: true,
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await h.bapi('POST', '/v1/users', {
          email_address: ['nopw@example.com'],
          skip_password_requirement: true,
        })
      ).status,
    ).toBe(200)
  })

  it('imports bcrypt and argon2 digests that then verify', async () => {
    const bcrypt = await Bun.password.hash('imported-bcrypt-pw', { algorithm: 'bcrypt', cost: 4 })
    const argon = await Bun.password.hash('imported-argon-pw', {
      algorithm: 'argon2id',
      memoryCost: 4096,
      timeCost: 1,
    })
    const a = await createUser({ password: undefined, password_digest: bcrypt, password_hasher: 'bcrypt' })
    const b = await createUser({ password: undefined, password_digest: argon, password_hasher: 'argon2id' })
    expect(
      (await h.bapi('POST', `/v1/users/${a.id}/verify-password`, { password: 'imported-bcrypt-pw' })).status,
    ).toBe(200)
    expect(
      (await h.bapi('POST', `/v1/users/${b.id}/verify-password`, { password: 'imported-argon-pw' })).status,
    ).toBe(200)
    const bad = await h.bapi('POST', '/v1/users', {
      email_address: ['bad-digest@example.com'],
      password_digest: 'plaintext',
      password_hasher: 'bcrypt',
    })
    expect((await body(bad)).errors[0]).toMatchObject({
      code: 'form_param_format_invalid',
      meta: { param_name: 'password_digest' },
    })
    const noHasher = await h.bapi('POST', '/v1/users', {
      email_address: ['no-hasher@example.com'],
      password_digest: bcrypt,
    })
    expect((await body(noHasher)).errors[0].meta.param_name).toBe('password_hasher')
  })

  it('refuses identifiers the instance has not enabled', async () => {
    await h.bapi('PATCH', '/v1/instance', { identifiers: { username: { enabled: false } } })
    const res = await h.bapi('POST', '/v1/users', {
      email_address: ['dis@example.com'],
      password: PASSWORD,
      username: 'someone',
    })
    expect((await body(res)).errors[0]).toMatchObject({
      code: 'form_param_unknown',
      meta: { param_name: 'username' },
    })
    await h.bapi('PATCH', '/v1/instance', { identifiers: { username: { enabled: true } } })
  })
})

describe('GET /v1/users/{id}', () => {
  it('gets a user and answers 404 resource_not_found for unknown or malformed ids', async () => {
    const u = await createUser()
    const got = await body(await h.bapi('GET', `/v1/users/${u.id}`))
    expect(got).toEqual(u)
    for (const id of ['user_01HZZZZZZZZZZZZZZZZZZZZZZZ', 'nope', 'sess_01HZZZZZZZZZZZZZZZZZZZZZZZ']) {
      const res = await h.bapi('GET', `/v1/users/${id}`)
      expect(res.status).toBe(404)
      expect((await body(res)).errors[0].code).toBe('resource_not_found')
    }
  })
})

describe('GET /v1/users', () => {
  // A separate env, so the listing holds exactly the users made here.
  let listed: any[]
  let other: Harness
  const h2 = () => other
  beforeAll(async () => {
    other = await createHarness()
    const users = []
    for (let i = 0; i < 5; i++) {
      other.clock.advance(1000)
      const res = await other.bapi('POST', '/v1/users', {
        email_address: [`list${i}@example.com`],
        password: PASSWORD,
        first_name: i % 2 ? 'Odd' : 'Even',
        external_id: `list-${i}`,
      })
      users.push(await body(res))
    }
    listed = users
  })
  afterAll(() => other.close())

  it('pages newest first with an opaque cursor', async () => {
    const first = await body(await h2().bapi('GET', '/v1/users?limit=2'))
    expect(first.data.map((u: any) => u.id)).toEqual([listed[4].id, listed[3].id])
    expect(first.meta.next_cursor).toBeString()
    const second = await body(await h2().bapi('GET', `/v1/users?limit=2&cursor=${first.meta.next_cursor}`))
    expect(second.data.map((u: any) => u.id)).toEqual([listed[2].id, listed[1].id])
    const third = await body(await h2().bapi('GET', `/v1/users?limit=2&cursor=${second.meta.next_cursor}`))
    expect(third.data.map((u: any) => u.id)).toEqual([listed[0].id])
    expect(third.meta.next_cursor).toBeNull()
  })

  it('orders ascending and by updated_at, with cursors bound to their ordering', async () => {
    const asc = await body(await h2().bapi('GET', '/v1/users?order_by=%2Bcreated_at&limit=3'))
    expect(asc.data.map((u: any) => u.id)).toEqual(listed.slice(0, 3).map((u) => u.id))
    const next = await body(
      await h2().bapi('GET', `/v1/users?order_by=%2Bcreated_at&limit=3&cursor=${asc.meta.next_cursor}`),
    )
    expect(next.data.map((u: any) => u.id)).toEqual(listed.slice(3).map((u) => u.id))
    const wrong = await h2().bapi('GET', `/v1/users?order_by=-updated_at&cursor=${asc.meta.next_cursor}`)
    expect(wrong.status).toBe(400)
    expect((await body(wrong)).errors[0].code).toBe('pagination_cursor_invalid')
    const garbage = await h2().bapi('GET', '/v1/users?cursor=not-a-cursor')
    expect((await body(garbage)).errors[0].code).toBe('pagination_cursor_invalid')
    const bySignIn = await body(await h2().bapi('GET', '/v1/users?order_by=-last_sign_in_at&limit=500'))
    expect(bySignIn.data).toHaveLength(5)
  })

  it('filters by identifiers, query and creation time', async () => {
    const ids = (b: any) => b.data.map((u: any) => u.id).sort()
    const byEmail = await body(
      await h2().bapi('GET', '/v1/users?email_address=LIST1@example.com&email_address=list2@example.com'),
    )
    expect(ids(byEmail)).toEqual([listed[1].id, listed[2].id].sort())
    const byExt = await body(await h2().bapi('GET', '/v1/users?external_id=list-3'))
    expect(ids(byExt)).toEqual([listed[3].id])
    const byId = await body(await h2().bapi('GET', `/v1/users?user_id=${listed[0].id}`))
    expect(ids(byId)).toEqual([listed[0].id])
    const byQuery = await body(await h2().bapi('GET', '/v1/users?query=odd&limit=10'))
    expect(ids(byQuery)).toEqual([listed[1].id, listed[3].id].sort())
    const byQueryEmail = await body(await h2().bapi('GET', '/v1/users?query=list4%40'))
    expect(ids(byQueryEmail)).toEqual([listed[4].id])
    const wildcard = await body(await h2().bapi('GET', '/v1/users?query=%25'))
    expect(wildcard.data).toEqual([])
    const after = await body(await h2().bapi('GET', `/v1/users?created_at_after=${listed[2].created_at}`))
    expect(ids(after)).toEqual([listed[3].id, listed[4].id].sort())
    const before = await body(
      await h2().bapi('GET', `/v1/users?created_at_before=${listed[1].created_at}&include_total_count=true`),
    )
    expect(ids(before)).toEqual([listed[0].id])
    expect(before.total_count).toBe(1)
  })

  it('counts with the same filters', async () => {
    expect(await body(await h2().bapi('GET', '/v1/users/count'))).toEqual({
      object: 'total_count',
      total_count: 5,
    })
    expect((await body(await h2().bapi('GET', '/v1/users/count?query=even'))).total_count).toBe(3)
  })

  it('rejects bad list parameters with 422', async () => {
    for (const q of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'order_by=name',
      'created_at_after=yesterday',
      'bogus=1',
    ]) {
      const res = await h2().bapi('GET', `/v1/users?${q}`)
      expect(res.status).toBe(422)
    }
  })
})

describe('PATCH /v1/users/{id}', () => {
  it('updates profile fields, replaces metadata and emits user.updated', async () => {
    const u = await createUser({ public_metadata: { a: 1, b: 2 } })
    h.clock.advance(5000)
    const res = await h.bapi('PATCH', `/v1/users/${u.id}`, {
      first_name: 'Grace',
      username: 'grace_h',
      public_metadata: { c: 3 },
    })
    const b = await body(res)
    expect(res.status).toBe(200)
    expect(b).toMatchObject({
      first_name: 'Grace',
      username: 'grace_h',
      public_metadata: { c: 3 },
      updated_at: h.clock.now(),
    })
    const cleared = await body(
      await h.bapi('PATCH', `/v1/users/${u.id}`, { username: null, first_name: null }),
    )
    expect(cleared).toMatchObject({ username: null, first_name: null })
    expect(
      (await events('user.updated')).some((e: any) => e.data.id === u.id && e.data.first_name === 'Grace'),
    ).toBe(true)
  })

  it('changes the password under the policy and the primary email only to an owned, verified one', async () => {
    const u = await createUser({ email_address: [`p${++seq}@example.com`, `q${seq}@example.com`] })
    const weak = await h.bapi('PATCH', `/v1/users/${u.id}`, { password: 'x' })
    expect((await body(weak)).errors[0].code).toBe('form_password_length_too_short')
    expect((await h.bapi('PATCH', `/v1/users/${u.id}`, { password: 'a brand new password' })).status).toBe(
      200,
    )
    expect(
      (await h.bapi('POST', `/v1/users/${u.id}/verify-password`, { password: 'a brand new password' }))
        .status,
    ).toBe(200)
    const other = await createUser()
    const foreign = await h.bapi('PATCH', `/v1/users/${u.id}`, {
      primary_email_address_id: other.email_addresses[0].id,
    })
    expect((await body(foreign)).errors[0].meta.param_name).toBe('primary_email_address_id')
    const ok = await body(
      await h.bapi('PATCH', `/v1/users/${u.id}`, { primary_email_address_id: u.email_addresses[1].id }),
    )
    expect(ok.primary_email_address_id).toBe(u.email_addresses[1].id)
  })

  it("rejects taking another user's username and changes nothing", async () => {
    const a = await createUser({ username: `taken${++seq}` })
    const b = await createUser({ first_name: 'Before' })
    const res = await h.bapi('PATCH', `/v1/users/${b.id}`, { username: a.username, first_name: 'After' })
    expect(res.status).toBe(422)
    expect((await body(await h.bapi('GET', `/v1/users/${b.id}`))).first_name).toBe('Before')
  })

  it('answers 404 for an unknown user', async () => {
    expect(
      (await h.bapi('PATCH', '/v1/users/user_01HZZZZZZZZZZZZZZZZZZZZZZZ', { first_name: 'x' })).status,
    ).toBe(404)
  })
})

describe('PATCH /v1/users/{id}/metadata', () => {
  it('deep-merges and deletes keys set to null', async () => {
    const u = await createUser({
      public_metadata: { a: { x: 1, y: 2 }, keep: true, drop: 1 },
      private_metadata: { p: 1 },
    })
    const b = await body(
      await h.bapi('PATCH', `/v1/users/${u.id}/metadata`, {
        public_metadata: { a: { y: null, z: 3 }, drop: null, list: [1, 2] },
      }),
    )
    expect(b.public_metadata).toEqual({ a: { x: 1, z: 3 }, keep: true, list: [1, 2] })
    expect(b.private_metadata).toEqual({ p: 1 })
  })

  it('caps metadata size', async () => {
    const u = await createUser()
    const res = await h.bapi('PATCH', `/v1/users/${u.id}/metadata`, {
      public_metadata: { big: 'x'.repeat(9000) },
    })
    expect(res.status).toBe(422)
    expect((await body(res)).errors[0].meta.param_name).toBe('public_metadata')
  })
})

describe('ban, lock and delete', () => {
  it('bans and unbans', async () => {
    const u = await createUser()
    expect((await body(await h.bapi('POST', `/v1/users/${u.id}/ban`))).banned).toBe(true)
    expect((await body(await h.bapi('POST', `/v1/users/${u.id}/unban`))).banned).toBe(false)
  })

  it('locks for the lockout duration and unlocks', async () => {
    const u = await createUser()
    const locked = await body(await h.bapi('POST', `/v1/users/${u.id}/lock`))
    expect(locked).toMatchObject({ locked: true, lockout_expires_in_seconds: 3600 })
    h.clock.advance(1800_000)
    expect((await body(await h.bapi('GET', `/v1/users/${u.id}`))).lockout_expires_in_seconds).toBe(1800)
    h.clock.advance(1800_000)
    expect((await body(await h.bapi('GET', `/v1/users/${u.id}`))).locked).toBe(false)
    await h.bapi('POST', `/v1/users/${u.id}/lock`)
    const unlocked = await body(await h.bapi('POST', `/v1/users/${u.id}/unlock`))
    expect(unlocked).toMatchObject({
      locked: false,
      lockout_expires_in_seconds: null,
      verification_attempts_remaining: 10,
    })
  })

  it('deletes a user with its identifiers and emits user.deleted', async () => {
    const u = await createUser()
    const res = await h.bapi('DELETE', `/v1/users/${u.id}`)
    expect(await body(res)).toEqual({ object: 'user', id: u.id, deleted: true })
    expect((await h.bapi('GET', `/v1/users/${u.id}`)).status).toBe(404)
    expect((await h.bapi('DELETE', `/v1/users/${u.id}`)).status).toBe(404)
    const left = h.ctx((ctx) =>
      ctx.client.query('SELECT count(*) AS n FROM email_addresses WHERE user_id = ?').get(u.id),
    ) as { n: number }
    expect(left.n).toBe(0)
    expect(
      (await events('user.deleted')).some((e: any) => e.data.id === u.id && e.data.deleted === true),
    ).toBe(true)
    // The address is free again.
    expect(
      (
        await h.bapi('POST', '/v1/users', {
          email_address: [u.email_addresses[0].email_address],
          password: PASSWORD,
        })
      ).status,
    ).toBe(200)
  })
})

describe('POST /v1/users/{id}/verify-password', () => {
  it('answers verified, incorrect_password or no_password_set', async () => {
    const u = await createUser()
    expect(
      await body(await h.bapi('POST', `/v1/users/${u.id}/verify-password`, { password: PASSWORD })),
    ).toEqual({ verified: true })
    const wrong = await h.bapi('POST', `/v1/users/${u.id}/verify-password`, { password: 'nope nope nope' })
    expect(wrong.status).toBe(422)
    expect((await body(wrong)).errors[0].code).toBe('incorrect_password')
    const nopw = await body(
      await h.bapi('POST', '/v1/users', {
        email_address: [`np${++seq}@example.com`],
        skip_password_requirement: true,
      }),
    )
    const none = await h.bapi('POST', `/v1/users/${nopw.id}/verify-password`, { password: 'anything' })
    expect(none.status).toBe(400)
    expect((await body(none)).errors[0].code).toBe('no_password_set')
    expect((await h.bapi('POST', `/v1/users/${u.id}/verify-password`, {})).status).toBe(422)
  })
})

describe('the hot user read', () => {
  it('findUser (raw statement) returns exactly what loadUser (drizzle) does', async () => {
    const u = await createUser({
      email_address: [`hot${++seq}@example.com`, `hot${seq}b@example.com`],
      phone_number: ['+14155550142', '+14155550143'],
      username: `hot_${seq}`,
      first_name: 'Hot',
      public_metadata: { nested: { a: [1, 2] } },
      private_metadata: { p: true },
    })
    await h.bapi('POST', `/v1/users/${u.id}/lock`)
    const [fast, slow] = h.ctx((ctx) => [findUser(ctx, u.id), loadUser(ctx.db, u.id)])
    expect(fast).toEqual(slow)
    expect(fast?.emails).toHaveLength(2)
    expect(fast?.phones).toHaveLength(2)
  })
})
