import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as jose from 'jose'
import { type Browser, chromium } from 'playwright-core'
import { bapiJson, ok } from '../flows/support'
import { createHarness, type Harness } from '../helpers/harness'
import { type Idp, startIdp } from '../helpers/oidc-idp'

/**
 * The whole round trip in headless Chromium (Debian `chromium`, driven by playwright-core): the
 * app's page starts a social sign-in on our Frontend API, the browser goes to the IdP's own login
 * and consent pages (node-oidc-provider), comes back to our callback, lands on the app signed
 * up, and the app gets a session token that jose verifies against our JWKS. Everything listens
 * on loopback; `*.localhost` resolves there in Chromium without any DNS.
 */

const HOST = 'social-e2e.localhost'
const PASSWORD = 'correct horse battery'
let h: Harness
let idp: Idp
let api: ReturnType<typeof Bun.serve>
let app: ReturnType<typeof Bun.serve>
let browser: Browser

/** The app: one page that signs in with the provider and shows the session token it gets. */
const appPage = (fapi: string) => `<!doctype html>
<html><body data-state="loading">
<button id="go">Continue with the test IdP</button>
<pre id="out"></pre>
<script>
const FAPI = ${JSON.stringify(fapi)}
async function call(method, path, body) {
  const res = await fetch(FAPI + path, {
    method, credentials: 'include',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const json = await res.json()
  if (!res.ok) throw new Error(path + ' ' + res.status + ' ' + JSON.stringify(json))
  return json
}
const q = new URLSearchParams(location.search)
const show = (state, text) => { document.getElementById('out').textContent = text; document.body.dataset.state = state }
if (!q.get('__authn_status')) {
  document.body.dataset.state = 'start'
  document.getElementById('go').onclick = async () => {
    const r = await call('POST', '/v1/client/sign-ins', { strategy: 'oauth_custom_idp', redirect_url: location.origin + '/sso-callback' })
    location.href = r.response.first_factor_verification.external_verification_redirect_url
  }
} else {
  (async () => {
    let sid = q.get('__authn_created_session')
    if (q.get('__authn_status') === 'transferable') {
      const up = await call('POST', '/v1/client/sign-ups', { transfer: true, password: ${JSON.stringify(PASSWORD)} })
      sid = up.response.created_session_id
    }
    if (!sid) throw new Error('not signed in: ' + location.search)
    const t = await call('POST', '/v1/client/sessions/' + sid + '/tokens')
    show('done', t.jwt)
  })().catch((e) => show('error', String(e)))
}
</script></body></html>`

beforeAll(async () => {
  h = await createHarness({ envs: [{ host: HOST }], now: new Date().toISOString() })
  api = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req) => h.rt.server.handle(req, '127.0.0.1'),
  })
  h.rt.setLocalPort(api.port!)
  const fapi = `http://${HOST}:${api.port}`
  app = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => new Response(appPage(fapi), { headers: { 'content-type': 'text/html; charset=utf-8' } }),
  })
  idp = await startIdp({
    loginPages: true,
    clients: [
      {
        client_id: 'authn-browser',
        client_secret: 'browser-secret-0123456789',
        redirect_uris: [`${fapi}/v1/oauth-callback/custom_idp`],
      },
    ],
    accounts: { grace: { email: 'grace@browser.test', email_verified: true, name: 'Grace Hopper' } },
  })
  ok(
    await bapiJson(h, 'POST', '/v1/oauth-providers', {
      provider_kind: 'custom_oidc',
      provider_key: 'custom_idp',
      client_id: 'authn-browser',
      client_secret: 'browser-secret-0123456789',
      discovery_url: idp.issuer,
    }),
  )
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
})

afterAll(async () => {
  await browser?.close()
  await idp?.close()
  await app?.stop(true)
  await api?.stop(true)
  h?.close()
})

describe('social sign-in in headless Chromium', () => {
  it('app → our redirect → the IdP login page → our callback → the app, signed in with a verifiable session token', async () => {
    const page = await browser.newPage()
    await page.goto(`http://${HOST}:${app.port}/`)
    await page.waitForSelector('body[data-state="start"]')
    await page.click('#go')
    // The IdP's own login page, then its consent page.
    await page.waitForURL((url) => url.origin === idp.issuer)
    await page.fill('input[name="login"]', 'grace')
    await page.fill('input[name="password"]', 'anything')
    await page.click('button[type="submit"]')
    await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.startsWith('/interaction/'))
    await page.click('button[type="submit"]')
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 20_000 })
    const out = await page.textContent('#out')
    expect(await page.getAttribute('body', 'data-state')).toBe('done')
    expect(new URL(page.url()).pathname).toBe('/sso-callback')

    const jwks = jose.createLocalJWKSet(
      (await (await h.fapi('GET', '/.well-known/jwks.json')).json()) as jose.JSONWebKeySet,
    )
    const { payload } = await jose.jwtVerify(out!, jwks, { currentDate: new Date(h.clock.now()) })
    expect(payload.sid).toMatch(/^sess_/)
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${payload.sub}`))
    expect(user.email_addresses[0]).toMatchObject({
      email_address: 'grace@browser.test',
      verification: { status: 'verified', strategy: 'oauth_custom_idp' },
    })
    expect(user.external_accounts).toHaveLength(1)
    expect(user.external_accounts[0]).toMatchObject({ provider: 'custom_idp', provider_user_id: 'grace' })
    // The client cookie is HttpOnly: the page never saw it.
    expect(await page.evaluate('document.cookie')).not.toContain('__authn_client')
    await page.close()
  }, 60_000)
})
