import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as client from 'openid-client'
import { body } from '../helpers/harness'
import {
  authorizationUrl,
  createApp,
  discover,
  formWithIntent,
  Jar,
  jarToCallback,
  PASSWORD,
  type Provider,
  REDIRECT,
  startProvider,
} from './oauth-support'

let p: Provider
beforeAll(async () => {
  p = await startProvider()
})
afterAll(() => p.stop())

let n = 0

async function user() {
  const email = `hosted${++n}+authn_test@example.com`
  const u = await body(await p.h.bapi('POST', '/v1/users', { email_address: [email], password: PASSWORD }))
  return { email, user: u }
}

async function start(config: client.Configuration, jar: Jar, extra: Record<string, string> = {}) {
  const { url, verifier, state } = await authorizationUrl(config, extra)
  return { verifier, state, first: await jar.visit(url.href) }
}

describe('the hosted sign-in page of the authorization endpoint', () => {
  it('signs a person in with a password, sets the client cookie, then consent and the code', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const { email, user: u } = await user()
    const jar = new Jar()
    const { verifier, state, first } = await start(config, jar)
    expect(first.status).toBe(302)
    expect(first.location).toStartWith('/oauth/sign-in?')
    const page = await jar.visit(`${p.issuer}${first.location}`)
    expect(page.status).toBe(200)
    expect(page.res.headers.get('x-frame-options')).toBe('DENY')
    expect(page.html).toContain('<label for="identifier">Email address</label>')

    const identified = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(page.html, 'identify'),
      identifier: email,
    })
    expect(identified.status).toBe(200)
    // Whatever first factors the env offers: here a password and an email code.
    expect(identified.html).toContain('type="password"')
    expect(identified.html).toContain('value="email_code"')

    const wrong = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(identified.html, 'answer', 'password'),
      password: 'wrong password',
    })
    expect(wrong.status).toBe(400)
    expect(wrong.html).toContain('role="alert"')

    const done = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(wrong.html, 'answer', 'password'),
      password: PASSWORD,
    })
    expect(done.status).toBe(303)
    expect(jar.cookies.has('__authn_client')).toBe(true)
    const callback = await jarToCallback(p, jar, done.location!)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    expect(tokens.claims()).toMatchObject({ sub: u.id, email })

    // The same client cookie is signed in to the Frontend API (the customer's app).
    const me = await jar.visit(`${p.issuer}/v1/me`)
    expect(JSON.parse(me.html).response.id).toBe(u.id)

    // A second visit: signed in and consented, straight back with a code.
    const again = await start(config, jar)
    expect(again.first.status).toBe(302)
    expect(new URL(again.first.location!).searchParams.get('code')).toBeTruthy()
  })

  it('signs a person in with an email code', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretPost(app.client_secret))
    const { email } = await user()
    const jar = new Jar()
    const { verifier, state, first } = await start(config, jar)
    const page = await jar.visit(`${p.issuer}${first.location}`)
    const identified = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(page.html, 'identify'),
      identifier: email,
    })
    const sent = await jar.post(
      `${p.issuer}/oauth/sign-in`,
      formWithIntent(identified.html, 'prepare', 'email_code'),
    )
    expect(sent.status).toBe(200)
    expect(sent.html).toContain('autocomplete="one-time-code"')
    // Development test addresses (+authn_test) always take 424242 and send nothing.
    const done = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(sent.html, 'answer'),
      code: '424242',
    })
    expect(done.status).toBe(303)
    const callback = await jarToCallback(p, jar, done.location!)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    expect(tokens.claims()!.email).toBe(email)
  })

  it('refuses a sign-in form posted from another origin (login CSRF)', async () => {
    const app = await createApp(p, {})
    const { email } = await user()
    const request = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
    })
    const res = await fetch(`${p.issuer}/oauth/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({
        authorization_request: request.toString(),
        intent: 'identify',
        identifier: email,
      }).toString(),
    })
    expect(res.status).toBe(400)
    expect(res.headers.get('set-cookie')).toBeNull()
  })
})
