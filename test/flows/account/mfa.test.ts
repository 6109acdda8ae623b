import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { type Browser, browser } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

/**
 * Codes come from oathtool (an independent RFC 6238 implementation) fed the secret read from
 * the otpauth URI, at the harness's fixed clock.
 */
function oathtool(secret: string, atMs: number): string {
  const when = new Date(atMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
  const p = Bun.spawnSync(['oathtool', '--totp', '-b', `--now=${when}`, secret])
  if (p.exitCode !== 0) throw new Error(`oathtool failed: ${p.stderr.toString()}`)
  return p.stdout.toString().trim()
}

const PASSWORD = 'correct horse battery'
let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

let n = 0
async function signedIn(): Promise<{ b: Browser; sid: string; userId: string; email: string }> {
  const email = `mfa${++n}@example.com`
  const u = await body(await h.bapi('POST', '/v1/users', { email_address: [email], password: PASSWORD }))
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', { identifier: email, password: PASSWORD })
  expect(si.body.response.status).toBe('complete')
  return { b, sid: si.body.response.created_session_id, userId: u.id, email }
}

async function enroll(b: Browser) {
  const started = await b.json('POST', '/v1/me/totp')
  expect(started.status).toBe(200)
  const uri = new URL(started.body.response.uri)
  const secret = uri.searchParams.get('secret')!
  const verified = await b.json('POST', '/v1/me/totp/verify', { code: oathtool(secret, h.clock.now()) })
  expect(verified.status).toBe(200)
  return {
    secret,
    started: started.body.response,
    backupCodes: verified.body.response.backup_codes as string[],
  }
}

/** A fresh browser that passed the password and now needs its second factor. */
async function toSecondFactor(email: string) {
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', { identifier: email, password: PASSWORD })
  expect(si.body.response.status).toBe('needs_second_factor')
  return { b, signIn: si.body.response }
}

describe('TOTP enrollment', () => {
  it('returns the secret once with an otpauth URI and a QR code, and confirms with an oathtool code', async () => {
    const { b, userId, email } = await signedIn()
    const { secret, started, backupCodes } = await enroll(b)
    expect(started.uri).toStartWith('otpauth://totp/')
    const uri = new URL(started.uri)
    expect(decodeURIComponent(uri.pathname)).toContain(email)
    expect(uri.searchParams.get('issuer')).toBe(h.ctx((ctx) => ctx.settings().application_name))
    expect(uri.searchParams.get('algorithm') ?? 'SHA1').toBe('SHA1')
    expect(uri.searchParams.get('digits') ?? '6').toBe('6')
    expect(uri.searchParams.get('period') ?? '30').toBe('30')
    expect(started.secret).toBe(secret)
    expect(started.qr_code).toStartWith('data:image/png;base64,')
    expect(Buffer.from(started.qr_code.split(',')[1], 'base64').subarray(1, 4).toString()).toBe('PNG')
    expect(backupCodes).toHaveLength(10)
    // The secret is sealed at rest.
    const stored = h.ctx((ctx) =>
      ctx.client.query('SELECT secret_sealed FROM totp_factors WHERE user_id = ?').get(userId),
    ) as { secret_sealed: string }
    expect(stored.secret_sealed).not.toContain(secret)
    const user = await body(await h.bapi('GET', `/v1/users/${userId}`))
    expect(user).toMatchObject({ totp_enabled: true, backup_code_enabled: true, two_factor_enabled: true })
    // Enrolling twice is refused; the secret is never shown again.
    const again = await b.json('POST', '/v1/me/totp')
    expect(again.status).toBe(400)
    expect(again.body.errors[0].code).toBe('totp_already_enabled')
  })

  it('refuses bad codes and a verify without enrollment', async () => {
    const { b } = await signedIn()
    const none = await b.json('POST', '/v1/me/totp/verify', { code: '123456' })
    expect(none.status).toBe(400)
    expect(none.body.errors[0].code).toBe('totp_not_enabled')
    const { body: started } = await b.json('POST', '/v1/me/totp')
    const secret = new URL(started.response.uri).searchParams.get('secret')!
    for (const code of ['12345', '1234567', 'abcdef']) {
      const res = await b.json('POST', '/v1/me/totp/verify', { code })
      expect(res.status).toBe(422)
      expect(res.body.errors[0]).toMatchObject({
        code: 'form_param_format_invalid',
        meta: { param_name: 'code' },
      })
    }
    const stale = await b.json('POST', '/v1/me/totp/verify', {
      code: oathtool(secret, h.clock.now() - 120_000),
    })
    expect(stale.status).toBe(422)
    expect(stale.body.errors[0].code).toBe('form_code_incorrect')
  })
})

describe('sign-in with a second factor', () => {
  it('needs the second factor after the password, accepts a TOTP code once, and the token says both factors are fresh', async () => {
    const { b, email, userId } = await signedIn()
    const { secret } = await enroll(b)
    h.clock.advance(30_000)
    const { b: b2, signIn } = await toSecondFactor(email)
    expect(signIn.supported_second_factors.map((f: { strategy: string }) => f.strategy)).toEqual([
      'totp',
      'backup_code',
    ])
    // No second-factor challenge can be issued before the first factor passes.
    const early = await browser(h).json('POST', '/v1/client/sign-ins', { identifier: email })
    const bad = await browser(h).json('POST', `/v1/client/sign-ins/${early.body.response.id}/challenges`, {
      strategy: 'totp',
    })
    expect(bad.status).toBe(404) // another client's sign-in
    const same = browser(h)
    const first = await same.json('POST', '/v1/client/sign-ins', { identifier: email })
    const premature = await same.json('POST', `/v1/client/sign-ins/${first.body.response.id}/challenges`, {
      strategy: 'totp',
    })
    expect(premature.status).toBe(422)
    expect(premature.body.errors[0].code).toBe('strategy_for_user_invalid')

    const ch = await b2.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges`, { strategy: 'totp' })
    expect(ch.body.response).toMatchObject({ step: 'second_factor', strategy: 'totp' })
    const code = oathtool(secret, h.clock.now())
    const done = await b2.json(
      'POST',
      `/v1/client/sign-ins/${signIn.id}/challenges/${ch.body.response.id}/answer`,
      { code },
    )
    expect(done.status).toBe(200)
    expect(done.body.response.status).toBe('complete')
    const sid = done.body.response.created_session_id
    h.clock.advance(5 * 60_000)
    const jwt = (await b2.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt
    const jwks = createLocalJWKSet(await body(await h.request(`https://${h.env.host}/.well-known/jwks.json`)))
    const { payload } = await jwtVerify(jwt, jwks, { currentDate: new Date(h.clock.now()) })
    expect(payload.fva).toEqual([5, 5])
    expect(payload.sub).toBe(userId)

    // The same code (same time step) is refused on another sign-in: replay.
    h.clock.advance(-5 * 60_000)
    const { b: b3, signIn: s3 } = await toSecondFactor(email)
    const ch3 = await b3.json('POST', `/v1/client/sign-ins/${s3.id}/challenges`, { strategy: 'totp' })
    const replay = await b3.json(
      'POST',
      `/v1/client/sign-ins/${s3.id}/challenges/${ch3.body.response.id}/answer`,
      { code },
    )
    expect(replay.status).toBe(422)
    expect(replay.body.errors[0].code).toBe('form_code_incorrect')
    h.clock.advance(5 * 60_000)
  })

  it('accepts the previous and next time step and refuses older codes (clock skew)', async () => {
    const { b, email } = await signedIn()
    const { secret } = await enroll(b)
    const cases: Array<[number, boolean]> = [
      [-30_000, true],
      [30_000, true],
      [-90_000, false],
    ]
    for (const [skew, ok] of cases) {
      h.clock.advance(120_000) // a fresh time step each round, past every used one
      const { b: b2, signIn } = await toSecondFactor(email)
      const ch = await b2.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges`, { strategy: 'totp' })
      const res = await b2.json(
        'POST',
        `/v1/client/sign-ins/${signIn.id}/challenges/${ch.body.response.id}/answer`,
        {
          code: oathtool(secret, h.clock.now() + skew),
        },
      )
      expect([skew, res.status]).toEqual([skew, ok ? 200 : 422])
    }
  })

  it('uses a backup code once', async () => {
    const { b, email } = await signedIn()
    const { backupCodes } = await enroll(b)
    const { b: b2, signIn } = await toSecondFactor(email)
    const ch = await b2.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges`, {
      strategy: 'backup_code',
    })
    const ok = await b2.json(
      'POST',
      `/v1/client/sign-ins/${signIn.id}/challenges/${ch.body.response.id}/answer`,
      { code: backupCodes[0] },
    )
    expect(ok.body.response.status).toBe('complete')
    const { b: b3, signIn: s3 } = await toSecondFactor(email)
    const ch3 = await b3.json('POST', `/v1/client/sign-ins/${s3.id}/challenges`, { strategy: 'backup_code' })
    const reused = await b3.json(
      'POST',
      `/v1/client/sign-ins/${s3.id}/challenges/${ch3.body.response.id}/answer`,
      { code: backupCodes[0] },
    )
    expect(reused.status).toBe(422)
    expect(reused.body.errors[0].code).toBe('form_code_incorrect')
    const malformed = await b3.json(
      'POST',
      `/v1/client/sign-ins/${s3.id}/challenges/${ch3.body.response.id}/answer`,
      { code: 'nope' },
    )
    expect(malformed.status).toBe(422)
    expect(malformed.body.errors[0].code).toBe('form_param_format_invalid')
  })

  it('counts wrong second-factor codes toward the lockout', async () => {
    await h.bapi('PATCH', '/v1/instance', { lockout: { max_attempts: 3 } })
    const { b, email } = await signedIn()
    await enroll(b)
    const { b: b2, signIn } = await toSecondFactor(email)
    const ch = await b2.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges`, { strategy: 'totp' })
    const codes: number[] = []
    for (let i = 0; i < 3; i++) {
      const res = await b2.json(
        'POST',
        `/v1/client/sign-ins/${signIn.id}/challenges/${ch.body.response.id}/answer`,
        { code: '000000' },
      )
      codes.push(res.status)
    }
    expect(codes.at(-1)).toBe(403)
    await h.bapi('PATCH', '/v1/instance', { lockout: { max_attempts: 10 } })
  })
})

describe('Backend API', () => {
  it('verify-totp answers { verified } for TOTP and backup codes, and the MFA reset removes both', async () => {
    const { b, userId } = await signedIn()
    const { secret, backupCodes } = await enroll(b)
    h.clock.advance(60_000)
    const ok = await h.bapi('POST', `/v1/users/${userId}/verify-totp`, {
      code: oathtool(secret, h.clock.now()),
    })
    expect(await body(ok)).toEqual({ verified: true })
    expect(
      await body(
        await h.bapi('POST', `/v1/users/${userId}/verify-totp`, { code: oathtool(secret, h.clock.now()) }),
      ),
    ).toEqual({ verified: false })
    expect(
      await body(await h.bapi('POST', `/v1/users/${userId}/verify-totp`, { code: backupCodes[1] })),
    ).toEqual({ verified: true })
    expect(
      await body(await h.bapi('POST', `/v1/users/${userId}/verify-totp`, { code: backupCodes[1] })),
    ).toEqual({ verified: false })
    expect((await h.bapi('POST', `/v1/users/${userId}/verify-totp`, { code: '12-34' })).status).toBe(422)
    const reset = await body(await h.bapi('DELETE', `/v1/users/${userId}/mfa`))
    expect(reset).toMatchObject({
      totp_enabled: false,
      backup_code_enabled: false,
      two_factor_enabled: false,
    })
    const none = await h.bapi('POST', `/v1/users/${userId}/verify-totp`, { code: '123456' })
    expect(none.status).toBe(400)
    const events = await body(await h.bapi('GET', '/v1/events?type=user.updated&limit=1'))
    expect(events.data[0].data).toMatchObject({ id: userId, totp_enabled: false })
  })
})

describe('required second factor and step-up', () => {
  it('gives new sessions a setup-mfa task (pending, sts) until the user enrolls', async () => {
    await h.bapi('PATCH', '/v1/instance', { second_factor_required: true })
    try {
      const { b, sid } = await signedIn()
      const client = await b.json('GET', '/v1/client')
      const session = client.body.response.sessions.find((s: { id: string }) => s.id === sid)
      expect(session).toMatchObject({ status: 'pending', tasks: [{ key: 'setup-mfa' }] })
      const pending = decodeJwt((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt)
      expect(pending.sts).toBe('pending')
      await enroll(b)
      const active = decodeJwt((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt)
      expect(active.sts).toBeUndefined()
    } finally {
      await h.bapi('PATCH', '/v1/instance', { second_factor_required: false })
    }
  })

  it('re-verifies a factor and resets its age in the token (fva)', async () => {
    const { b, sid } = await signedIn()
    const { secret } = await enroll(b)
    h.clock.advance(10 * 60_000)
    const before = decodeJwt((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt)
    expect(before.fva).toEqual([10, -1])
    const rv = await b.json('POST', `/v1/client/sessions/${sid}/verify`, { level: 'second_factor' })
    expect(rv.body.response).toMatchObject({
      object: 'session_reverification',
      status: 'needs_second_factor',
    })
    const ch = await b.json('POST', `/v1/client/sessions/${sid}/verify/challenges`, { strategy: 'totp' })
    const done = await b.json(
      'POST',
      `/v1/client/sessions/${sid}/verify/challenges/${ch.body.response.id}/answer`,
      {
        code: oathtool(secret, h.clock.now()),
      },
    )
    expect(done.body.response.status).toBe('complete')
    const after = decodeJwt((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt)
    expect(after.fva).toEqual([10, 0])
    const pw = await b.json('POST', `/v1/client/sessions/${sid}/verify`, { level: 'first_factor' })
    const pch = await b.json('POST', `/v1/client/sessions/${sid}/verify/challenges`, { strategy: 'password' })
    const wrong = await b.json(
      'POST',
      `/v1/client/sessions/${sid}/verify/challenges/${pch.body.response.id}/answer`,
      { password: 'nope nope nope' },
    )
    expect(wrong.status).toBe(422)
    const right = await b.json(
      'POST',
      `/v1/client/sessions/${sid}/verify/challenges/${pch.body.response.id}/answer`,
      { password: PASSWORD },
    )
    expect(right.body.response.status).toBe('complete')
    expect(pw.body.response.level).toBe('first_factor')
    expect(decodeJwt((await b.json('POST', `/v1/client/sessions/${sid}/tokens`)).body.jwt).fva).toEqual([
      0, 0,
    ])
  })
})

describe('SMS as a second factor', () => {
  it('sends a code to a phone reserved for second factor and completes the sign-in with it', async () => {
    await h.bapi('PATCH', '/v1/instance', {
      identifiers: { phone_number: { enabled: true } },
      second_factors: ['totp', 'phone_code', 'backup_code'],
    })
    try {
      const { b, email } = await signedIn()
      // A development env's test number: the code is 424242 and nothing is sent.
      const added = await b.json('POST', '/v1/me/phone-numbers', { phone_number: '+1 415 555 0142' })
      const pid = added.body.response.id
      const ch = await b.json('POST', `/v1/me/phone-numbers/${pid}/challenges`, { strategy: 'phone_code' })
      expect(
        (
          await b.json('POST', `/v1/me/phone-numbers/${pid}/challenges/${ch.body.response.id}/answer`, {
            code: '424242',
          })
        ).status,
      ).toBe(200)
      const reserved = await b.json('PATCH', `/v1/me/phone-numbers/${pid}`, {
        reserved_for_second_factor: true,
        default_second_factor: true,
      })
      expect(reserved.body.response).toMatchObject({
        reserved_for_second_factor: true,
        default_second_factor: true,
      })
      const { b: b2, signIn } = await toSecondFactor(email)
      expect(signIn.supported_second_factors).toEqual([
        expect.objectContaining({ strategy: 'phone_code', phone_number_id: pid, primary: true }),
      ])
      const sms = await b2.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges`, {
        strategy: 'phone_code',
      })
      expect(sms.body.response).toMatchObject({
        step: 'second_factor',
        strategy: 'phone_code',
        target_id: pid,
      })
      const wrong = await b2.json(
        'POST',
        `/v1/client/sign-ins/${signIn.id}/challenges/${sms.body.response.id}/answer`,
        { code: '000000' },
      )
      expect(wrong.body.errors[0].code).toBe('form_code_incorrect')
      const done = await b2.json(
        'POST',
        `/v1/client/sign-ins/${signIn.id}/challenges/${sms.body.response.id}/answer`,
        { code: '424242' },
      )
      expect(done.body.response.status).toBe('complete')
      // A number reserved for second factor cannot be removed.
      const del = await b.json('DELETE', `/v1/me/phone-numbers/${pid}`)
      expect(del.status).toBe(400)
      expect(del.body.errors[0].code).toBe('phone_number_reserved_for_second_factor')
    } finally {
      await h.bapi('PATCH', '/v1/instance', { second_factors: ['totp', 'backup_code'] })
    }
  })
})
