import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import * as client from 'openid-client'
import { createApp, discover, type Provider, REDIRECT, startProvider } from './oauth-support'

/**
 * Per-IP limits on the OAuth provider's token endpoint (100 per 10 s) and dynamic registration
 * (5 per minute), in the surface table's rate-limit edge: over the limit, an RFC 6749 error body
 * with status 429 and Retry-After, still CORS-open and uncached. The provider runs on loopback
 * with rate limits on; the window follows the provider's clock.
 */

let p: Provider
beforeAll(async () => {
  p = await startProvider({ rateLimits: true })
})
afterAll(() => p.stop())

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://spa.example' },
  body: new URLSearchParams(fields).toString(),
})

async function expectLimited(res: Response, longestWait: number) {
  expect(res.status).toBe(429)
  expect(res.headers.get('content-type')).toContain('application/json')
  expect(res.headers.get('cache-control')).toBe('no-store')
  expect(res.headers.get('access-control-allow-origin')).toBe('*')
  const retry = Number(res.headers.get('retry-after'))
  expect(retry).toBeGreaterThanOrEqual(1)
  expect(retry).toBeLessThanOrEqual(longestWait)
  const body = (await res.json()) as Record<string, string>
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
  expect(body.error).toBe('temporarily_unavailable')
  expect(body.error_description).toContain('Too many requests')
}

describe('rate limits of the OAuth endpoints, per client IP', () => {
  it('POST /oauth/token: 100 per 10 s, then 429 with Retry-After; openid-client reads the error; the window ends', async () => {
    const app = await createApp(p, {})
    const config = await discover(p, app.client_id, client.ClientSecretPost(app.client_secret))
    // Whatever the requests are (here refused grants), each counts.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(
        `${p.issuer}/oauth/token`,
        form({ grant_type: 'refresh_token', refresh_token: 'x' }),
      )
      expect(res.status).not.toBe(429)
      await res.arrayBuffer()
    }
    await expectLimited(
      await fetch(`${p.issuer}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: 'x' })),
      10,
    )
    // A relying party library sees an RFC 6749 error, not a crash.
    const err = await client.refreshTokenGrant(config, 'rt_whatever').catch((e) => e)
    expect(err).toBeInstanceOf(client.ResponseBodyError)
    expect(err.error).toBe('temporarily_unavailable')
    expect(err.status).toBe(429)

    // Other endpoints of the surface are not counted in this bucket.
    const info = await fetch(`${p.issuer}/oauth/token_info`, form({ token: 'x' }))
    expect(info.status).not.toBe(429)
    await info.arrayBuffer()

    p.h.clock.advance(10_000)
    const again = await fetch(
      `${p.issuer}/oauth/token`,
      form({ grant_type: 'refresh_token', refresh_token: 'x' }),
    )
    expect(again.status).toBe(401)
    expect(((await again.json()) as Record<string, string>).error).toBe('invalid_client')
  }, 120_000)

  it('POST /oauth/register: 5 per minute, then 429 with Retry-After', async () => {
    await p.h.bapi('PATCH', '/v1/instance', { oauth_provider: { dynamic_client_registration: true } })
    const register = () =>
      fetch(`${p.issuer}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
      })
    for (let i = 0; i < 5; i++) {
      const res = await register()
      expect(res.status).toBe(201)
      await res.arrayBuffer()
    }
    const over = await register()
    expect(over.status).toBe(429)
    const retry = Number(over.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(60)
    expect(((await over.json()) as Record<string, string>).error).toBe('temporarily_unavailable')

    p.h.clock.advance(60_000)
    const later = await register()
    expect(later.status).toBe(201)
  }, 120_000)

  it('POST /oauth/sign-in (the hosted sign-in page): 10 per 10 s, then a 429 page with Retry-After', async () => {
    const app = await createApp(p, {})
    const request = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
    }).toString()
    const post = () =>
      fetch(`${p.issuer}/oauth/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: p.issuer },
        body: new URLSearchParams({
          authorization_request: request,
          intent: 'identify',
          identifier: 'nobody+authn_test@example.com',
        }).toString(),
      })
    for (let i = 0; i < 10; i++) {
      const res = await post()
      expect(res.status).not.toBe(429)
      await res.arrayBuffer()
    }
    const over = await post()
    expect(over.status).toBe(429)
    expect(over.headers.get('content-type')).toContain('text/html')
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await over.text()).toContain('Too many requests')
    // Showing the page is not counted.
    const page = await fetch(`${p.issuer}/oauth/sign-in?${request}`)
    expect(page.status).toBe(200)
    await page.arrayBuffer()
    p.h.clock.advance(10_000)
    const later = await post()
    expect(later.status).not.toBe(429)
  }, 120_000)
})
