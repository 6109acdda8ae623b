import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createApp, formWithIntent, Jar, type Provider, REDIRECT, startProvider } from './oauth-support'

/**
 * The hosted sign-in page offers whatever first factors the registry has, including the redirect
 * factors other capabilities register (a social provider here): no change on the page's side.
 */

let p: Provider
beforeAll(async () => {
  p = await startProvider()
})
afterAll(() => p.stop())

describe('the hosted sign-in page and redirect factors', () => {
  it('shows a configured social provider and sends the browser to it with a state', async () => {
    const created = await p.h.bapi('POST', '/v1/oauth-providers', {
      provider_kind: 'preset',
      preset: 'google',
      client_id: 'authn-google',
      client_secret: 'google-secret-0123456789',
    })
    expect(created.status).toBe(200)
    const app = await createApp(p, {})
    const jar = new Jar()
    const request = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
    })
    const first = await jar.visit(`${p.issuer}/oauth/authorize?${request}`)
    expect(first.status).toBe(302)
    const page = await jar.visit(`${p.issuer}${first.location}`)
    expect(page.status).toBe(200)
    const fields = formWithIntent(page.html, 'prepare')
    expect(fields.strategy).toContain('google')
    expect(page.html).toContain('Continue with')

    const go = await jar.post(`${p.issuer}/oauth/sign-in`, fields)
    expect(go.status).toBe(303)
    const to = new URL(go.location!)
    expect(to.hostname).toBe('accounts.google.com')
    expect(to.searchParams.get('state')).toBeTruthy()
    expect(to.searchParams.get('client_id')).toBe('authn-google')
    // The sign-in waits for the provider's callback, on the same client.
    expect(jar.cookies.has('__authn_client')).toBe(true)
  })
})
