import { afterAll, beforeAll, expect, it } from 'bun:test'
import { browser } from '../helpers/browser'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

const count = (sql: string) => (h.ctx((ctx) => ctx.client.query(sql).get()) as { n: number }).n

it('purges expired codes, expired access-token records and spent refresh tokens after their window', async () => {
  const base = `https://${h.env.host}`
  const email = 'purge+authn_test@example.com'
  await h.bapi('POST', '/v1/users', { email_address: [email], password: 'correct horse battery' })
  const b = browser(h)
  await b.json('POST', '/v1/client/sign-ins', {
    identifier: email,
    password: 'correct horse battery',
    strategy: 'password',
  })
  const app = await body(
    await h.bapi('POST', '/v1/oauth-applications', {
      name: 'P',
      redirect_uris: ['https://p.example.com/cb'],
      scopes: 'openid offline_access',
      consent_screen_enabled: false,
    }),
  )
  const codeOf = async () => {
    const res = await b.call(
      'GET',
      `/oauth/authorize?${new URLSearchParams({ client_id: app.client_id, redirect_uri: 'https://p.example.com/cb', response_type: 'code', scope: 'openid offline_access' })}`,
    )
    return new URL(res.headers.get('location')!).searchParams.get('code')!
  }
  const token = async (fields: Record<string, string>) =>
    body(
      await h.request(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          ...fields,
          client_id: app.client_id,
          client_secret: app.client_secret,
        }).toString(),
      }),
    )
  await codeOf() // never exchanged
  const tokens = await token({
    grant_type: 'authorization_code',
    code: await codeOf(),
    redirect_uri: 'https://p.example.com/cb',
  })
  const rotated = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
  expect(rotated.refresh_token).toBeTruthy()
  expect(count('SELECT count(*) AS n FROM oauth_codes')).toBe(2)
  // The code exchange's access token has its own row; the refresh's is recorded on the new
  // refresh token (one row per refresh).
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'access'")).toBe(1)
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'refresh'")).toBe(2)
  expect(count('SELECT count(*) AS n FROM oauth_tokens WHERE access_jti IS NOT NULL')).toBe(1)

  // Codes expire after 10 minutes; access tokens after an hour.
  h.clock.advance(11 * 60_000)
  await h.rt.scheduler.tick()
  expect(count('SELECT count(*) AS n FROM oauth_codes')).toBe(0)
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'access'")).toBe(1)
  h.clock.advance(60 * 60_000)
  await h.rt.scheduler.tick()
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'access'")).toBe(0)
  // The spent refresh token stays for reuse detection (30 days), then goes; the live one stays.
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'refresh'")).toBe(2)
  h.clock.advance(30 * 24 * 60 * 60_000)
  await h.rt.scheduler.tick()
  expect(count("SELECT count(*) AS n FROM oauth_tokens WHERE kind = 'refresh'")).toBe(1)
  const again = await token({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token })
  expect(again.access_token).toBeTruthy()
})
