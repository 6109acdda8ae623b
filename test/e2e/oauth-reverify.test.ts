import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as client from 'openid-client'
import {
  authorizationUrl,
  createApp,
  discover,
  formWithIntent,
  Jar,
  jarToCallback,
  PASSWORD,
  type Provider,
  signedInPerson,
  startProvider,
} from './oauth-support'

/**
 * `prompt=login` and an exceeded `max_age` while the browser already has a live session: the
 * hosted sign-in re-verifies that session's user (a first factor through step-up), the session
 * stays the same, and the id_token's `auth_time` is the re-verification's time.
 */

let p: Provider
beforeAll(async () => {
  p = await startProvider()
})
afterAll(() => p.stop())

const nowSeconds = () => Math.floor(p.h.clock.now() / 1000)

async function signedInJar() {
  const person = await signedInPerson(p)
  const jar = new Jar()
  jar.cookies.set('__authn_client', person.cookie.slice('__authn_client='.length))
  return { person, jar }
}

async function sessionIdOf(jar: Jar) {
  const me = await jar.visit(`${p.issuer}/v1/client`)
  return JSON.parse(me.html).response.last_active_session_id as string
}

describe('re-authentication of a live session through the authorization endpoint', () => {
  it('max_age exceeded: the same user proves the password again; auth_time is that moment', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const { person, jar } = await signedInJar()
    const sessionBefore = await sessionIdOf(jar)
    const signedInAt = nowSeconds()

    p.h.clock.advance(3000)
    const { url, verifier, state } = await authorizationUrl(config, { max_age: '1' })
    const first = await jar.visit(url.href)
    expect(first.status).toBe(302)
    expect(first.location).toStartWith('/oauth/sign-in?')

    const page = await jar.visit(`${p.issuer}${first.location}`)
    expect(page.status).toBe(200)
    expect(page.html).toContain('Confirm it is you')
    expect(page.html).toContain(person.email)
    expect(page.html).not.toContain('name="identifier"')
    expect(page.html).toContain('type="password"')

    const wrong = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(page.html, 'answer', 'password'),
      password: 'not the password',
    })
    expect(wrong.status).toBe(400)
    expect(wrong.html).toContain('role="alert"')

    p.h.clock.advance(1000)
    const reverifiedAt = nowSeconds()
    const done = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(wrong.html, 'answer', 'password'),
      password: PASSWORD,
    })
    expect(done.status).toBe(303)
    expect(done.location).toStartWith('/oauth/authorize?')
    expect(new URL(done.location!, p.issuer).searchParams.get('max_age')).toBe('1')

    const callback = await jarToCallback(p, jar, done.location!)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      maxAge: 1,
    })
    const claims = tokens.claims()!
    expect(claims.sub).toBe(person.user.id)
    expect(claims.auth_time).toBe(reverifiedAt)
    expect(claims.auth_time!).toBeGreaterThan(signedInAt)
    // The same session, re-verified: no new sign-in happened.
    expect(claims.sid).toBe(sessionBefore)
    expect(await sessionIdOf(jar)).toBe(sessionBefore)
  }, 60_000)

  it('prompt=login: the same user proves an email code again, then straight back with a code', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretPost(app.client_secret))
    const { person, jar } = await signedInJar()
    const sessionBefore = await sessionIdOf(jar)

    // Consent once, without prompt=login: auth_time is the sign-in.
    const plain = await authorizationUrl(config, {})
    const firstCallback = await jarToCallback(p, jar, plain.url.href)
    const firstTokens = await client.authorizationCodeGrant(config, firstCallback, {
      pkceCodeVerifier: plain.verifier,
      expectedState: plain.state,
    })
    const signedInAuthTime = firstTokens.claims()!.auth_time!

    p.h.clock.advance(2000)
    const { url, verifier, state } = await authorizationUrl(config, { prompt: 'login' })
    const first = await jar.visit(url.href)
    expect(first.status).toBe(302)
    expect(first.location).toStartWith('/oauth/sign-in?')
    const page = await jar.visit(`${p.issuer}${first.location}`)
    expect(page.html).toContain('Confirm it is you')

    const sent = await jar.post(
      `${p.issuer}/oauth/sign-in`,
      formWithIntent(page.html, 'prepare', 'email_code'),
    )
    expect(sent.status).toBe(200)
    expect(sent.html).toContain('autocomplete="one-time-code"')

    const wrong = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(sent.html, 'answer'),
      code: '000000',
    })
    expect(wrong.status).toBe(400)
    expect(wrong.html).toContain('autocomplete="one-time-code"')

    const reverifiedAt = nowSeconds()
    // Development test addresses (+authn_test) always take 424242.
    const done = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(wrong.html, 'answer'),
      code: '424242',
    })
    expect(done.status).toBe(303)
    const back = new URL(done.location!, p.issuer)
    expect(back.pathname).toBe('/oauth/authorize')
    expect(back.searchParams.get('prompt')).toBeNull()

    // Consent already covers the request: the authorization endpoint answers with a code.
    const again = await jar.visit(back.href)
    expect(again.status).toBe(302)
    const tokens = await client.authorizationCodeGrant(config, new URL(again.location!), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
    const claims = tokens.claims()!
    expect(claims.sub).toBe(person.user.id)
    expect(claims.auth_time).toBe(reverifiedAt)
    expect(claims.auth_time!).toBeGreaterThan(signedInAuthTime)
    expect(claims.sid).toBe(sessionBefore)
  }, 60_000)

  it('prompt=login without re-verifying never hands out a code', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretBasic(app.client_secret))
    const { jar } = await signedInJar()
    const { url } = await authorizationUrl(config, { prompt: 'login' })
    const first = await jar.visit(url.href)
    expect(first.status).toBe(302)
    expect(first.location).toStartWith('/oauth/sign-in?')
    // A password form without the password is a page error, never a redirect with a code.
    const page = await jar.visit(`${p.issuer}${first.location}`)
    const blank = await jar.post(`${p.issuer}/oauth/sign-in`, {
      ...formWithIntent(page.html, 'answer', 'password'),
      password: '',
    })
    expect(blank.status).toBe(400)
    expect(blank.location).toBeNull()
  }, 60_000)
})
