import { afterAll, describe, expect, it } from 'bun:test'
import type { Config } from '../../src/config'
import { createUser, emailOf, PASSWORD } from '../flows/support'
import { body, createHarness, type Harness } from '../helpers/harness'

// The peer address is what Bun.serve hands to server.handle(request, ip); X-Forwarded-For and
// X-Forwarded-Proto are only believed when that peer is one of AUTHN_TRUSTED_PROXIES.

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh(config: Partial<Config> = {}) {
  const h = await createHarness({ rateLimits: true, config })
  open.push(h)
  return h
}

const PROXY = '10.0.0.2'

/** A sign-in creation (5 per 10 s per client address) as it reaches us from `peer`. */
async function signIn(h: Harness, peer: string, headers: Record<string, string> = {}, payload?: object) {
  return h.rt.server.handle(
    new Request(`https://${h.env.host}/v1/client/sign-ins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload ?? { identifier: 'nobody@example.com' }),
    }),
    peer,
  )
}

async function statuses(n: number, send: (i: number) => Promise<Response>) {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await send(i)).status)
  return out
}

const limited = (s: number[]) => s.filter((x) => x === 429).length

describe('client addresses behind a reverse proxy', () => {
  it('from a trusted proxy, each visitor named by X-Forwarded-For has its own bucket', async () => {
    const h = await fresh({ trustedProxies: ['10.0.0.0/8'] })
    const a = await statuses(6, () => signIn(h, PROXY, { 'x-forwarded-for': '203.0.113.7' }))
    expect(limited(a)).toBe(1)
    expect(a.at(-1)).toBe(429)
    // Another visitor through the same proxy is not throttled by the first.
    const b = await statuses(5, () => signIn(h, PROXY, { 'x-forwarded-for': '198.51.100.9' }))
    expect(limited(b)).toBe(0)
  })

  it('takes the rightmost untrusted hop: entries a visitor prepends cannot buy a new bucket', async () => {
    const h = await fresh({ trustedProxies: ['10.0.0.0/8'] })
    const spoofed = await statuses(6, (i) =>
      signIn(h, PROXY, { 'x-forwarded-for': `192.0.2.${i + 1}, 203.0.113.7, 10.1.1.1` }),
    )
    expect(spoofed.at(-1)).toBe(429)
    expect(limited(spoofed)).toBe(1)
  })

  it('records the visitor, not the proxy, on the session', async () => {
    const h = await fresh({ trustedProxies: ['10.0.0.0/8'] })
    const user = await createUser(h)
    const res = await signIn(
      h,
      PROXY,
      { 'x-forwarded-for': '203.0.113.7' },
      { identifier: emailOf(user), password: PASSWORD, strategy: 'password' },
    )
    expect(res.status).toBe(200)
    const sid = (await body(res)).response.created_session_id
    const session = await body(await h.bapi('GET', `/v1/sessions/${sid}`))
    expect(session.latest_activity.ip_address).toBe('203.0.113.7')
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const h = await fresh({ trustedProxies: ['10.0.0.0/8'] })
    const s = await statuses(6, (i) => signIn(h, '192.0.2.50', { 'x-forwarded-for': `198.51.100.${i + 1}` }))
    expect(s.at(-1)).toBe(429)
    // Nothing trusted at all (the default): the header changes nothing either.
    const h2 = await fresh()
    const s2 = await statuses(6, (i) => signIn(h2, PROXY, { 'x-forwarded-for': `198.51.100.${i + 1}` }))
    expect(s2.at(-1)).toBe(429)
  })

  it('buckets IPv6 visitors by /64, and a trusted IPv6 proxy is believed too', async () => {
    const h = await fresh({ trustedProxies: ['fd00::/8'] })
    const same64 = await statuses(6, (i) => signIn(h, `2001:db8:1:2::${i + 1}`))
    expect(same64.at(-1)).toBe(429)
    expect((await signIn(h, '2001:db8:1:2:ffff:ffff:ffff:ffff')).status).toBe(429)
    expect((await signIn(h, '2001:db8:1:3::1')).status).not.toBe(429)
    // Behind the proxy: the forwarded address is bucketed the same way.
    const via = await statuses(6, (i) =>
      signIn(h, 'fd00::10', { 'x-forwarded-for': `2001:db8:9:9::${i + 1}` }),
    )
    expect(via.at(-1)).toBe(429)
  })

  it('believes X-Forwarded-Proto only from a trusted proxy (the frontend URL decides the origin check)', async () => {
    const h = await fresh({ trustedProxies: ['10.0.0.0/8'] })
    const call = async (peer: string) =>
      h.rt.server.handle(
        new Request(`http://${h.env.host}/v1/client/sign-ins`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            origin: `https://${h.env.host}`,
            'x-forwarded-proto': 'https',
          },
          body: JSON.stringify({ identifier: 'nobody@example.com' }),
        }),
        peer,
      )
    // A direct caller claiming https is on http: its https origin is a foreign one.
    const direct = await call('192.0.2.50')
    expect(direct.status).toBe(403)
    expect((await body(direct)).errors[0].code).toBe('origin_invalid')
    // The TLS-terminating proxy says the visitor came over https: the origin is our own.
    const proxied = await call(PROXY)
    expect(proxied.status).not.toBe(403)
  })
})
