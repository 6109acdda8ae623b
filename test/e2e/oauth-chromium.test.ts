import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import * as client from 'openid-client'
import { type Browser, chromium, type Page } from 'playwright-core'
import { SMTPServer } from 'smtp-server'
import { createDelivery } from '../../src/lib/delivery'
import { body } from '../helpers/harness'
import { freePort, ROOT } from './helpers'
import { authorizationUrl, createApp, discover, type Provider, startProvider } from './oauth-support'

/**
 * The hosted sign-in and consent pages in a real browser: headless Chromium (Debian's
 * `chromium`, driven by playwright-core) signs a person in with a password and another with an
 * email code read from a local SMTP server, consents, and lands on the app's redirect; the
 * relying party (openid-client) exchanges the code. Screenshots of every page are kept in
 * test-artifacts/oauth/ (git-ignored).
 */

const CHROMIUM = process.env.AUTHN_CHROMIUM ?? '/usr/bin/chromium'
const SHOTS = join(ROOT, 'test-artifacts', 'oauth')
const PASSWORD = 'correct horse battery staple'

let p: Provider
let browser: Browser
let smtp: SMTPServer
let rp: ReturnType<typeof Bun.serve>
const inbox: Array<{ to: string; raw: string }> = []

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => {
        raw += c.toString('utf8')
      })
      stream.on('end', () => {
        for (const rcpt of session.envelope.rcptTo) inbox.push({ to: rcpt.address, raw })
        callback()
      })
    },
  })
  const smtpPort = await freePort()
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve))
  p = await startProvider({
    delivery: createDelivery({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, smsApiUrl: '' }),
  })
  // The relying party's callback page.
  rp = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('<h1>Back at Acme Notes</h1>', { headers: { 'content-type': 'text/html' } }),
  })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await rp?.stop(true)
  await p?.stop()
  await new Promise<void>((resolve) => smtp.close(() => resolve()))
})

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

async function codeMailedTo(to: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    await p.h.settle()
    const mail = [...inbox].reverse().find((m) => m.to === to)
    const code = mail?.raw.match(/\b(\d{6})\b/)?.[1]
    if (code) return code
    await Bun.sleep(50)
  }
  throw new Error(`no code was mailed to ${to}`)
}

async function setup() {
  const callback = `http://127.0.0.1:${rp.port}/callback`
  const app = await createApp(p, { name: 'Acme Notes', redirect_uris: [callback] })
  const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
  const start = () => authorizationUrl(config, { redirect_uri: callback, scope: 'openid profile email' })
  const exchange = (landed: string, s: { verifier: string; state: string }) =>
    client.authorizationCodeGrant(config, new URL(landed), {
      pkceCodeVerifier: s.verifier,
      expectedState: s.state,
    })
  return { callback, config, start, exchange }
}

async function person(email: string) {
  const res = await p.h.bapi('POST', '/v1/users', {
    email_address: [email],
    password: PASSWORD,
    first_name: 'Ada',
  })
  expect(res.status).toBe(200)
  return body(res)
}

describe('hosted sign-in and consent in headless Chromium', () => {
  it('password sign-in, consent, the code exchanged; a second visit skips consent', async () => {
    const rpSide = await setup()
    const user = await person('ada@example.com')
    const context = await browser.newContext()
    const page = await context.newPage()
    const s = await rpSide.start()
    await page.goto(s.url.href)
    expect(new URL(page.url()).pathname).toBe('/oauth/sign-in')
    await expect(page.title()).resolves.toContain('Acme')
    await shot(page, '1-sign-in-identifier')

    await page.getByLabel('Email address').fill('ada@example.com')
    await page.getByRole('button', { name: 'Continue' }).click()
    await shot(page, '2-sign-in-password')
    await page.getByLabel('Password').fill('not my password')
    await page.getByRole('button', { name: 'Continue' }).first().click()
    await expect(page.getByRole('alert').textContent()).resolves.toBeTruthy()
    await shot(page, '3-sign-in-wrong-password')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Continue' }).first().click()

    await page.waitForURL((u) => u.pathname === '/oauth/authorize')
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(
      'Acme Notes wants to access your Acme account',
    )
    await shot(page, '4-consent')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL((u) => u.href.startsWith(rpSide.callback))
    await shot(page, '5-back-at-the-app')
    const tokens = await rpSide.exchange(page.url(), s)
    expect(tokens.claims()).toMatchObject({ sub: user.id, email: 'ada@example.com', name: 'Ada' })

    // A second visit: signed in and consented, straight back to the app.
    const again = await rpSide.start()
    await page.goto(again.url.href)
    await page.waitForURL((u) => u.href.startsWith(rpSide.callback))
    expect((await rpSide.exchange(page.url(), again)).claims()!.sub).toBe(user.id)
    await context.close()
  }, 60_000)

  it('email-code sign-in with the code from the SMTP server', async () => {
    const rpSide = await setup()
    const user = await person('bob@example.com')
    const context = await browser.newContext()
    const page = await context.newPage()
    const s = await rpSide.start()
    await page.goto(s.url.href)
    await page.getByLabel('Email address').fill('bob@example.com')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('button', { name: /Email code/ }).click()
    await shot(page, '6-sign-in-email-code')
    await page.getByLabel('Code').fill(await codeMailedTo('bob@example.com'))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL((u) => u.href.startsWith(rpSide.callback))
    const tokens = await rpSide.exchange(page.url(), s)
    expect(tokens.claims()).toMatchObject({ sub: user.id, email: 'bob@example.com' })
    await context.close()
  }, 60_000)
})
