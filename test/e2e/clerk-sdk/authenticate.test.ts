import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { getCookieSuffix } from '@clerk/shared/keys'
import type { Browser } from '../../helpers/browser'
import type { TestEnv } from '../../helpers/harness'
import { browserSignIn, PASSWORD, type SdkWorld, sdkWorld, uniqueEmail } from './support'

/**
 * `authenticateRequest` as an app's server runs it (Next.js, Express, … all call it): the app is
 * at https://app.example.test, the browser holds our client cookie on the frontend host, and the
 * SDK decides from the page request's cookies, redirecting through our handshake when it must.
 */
const APP = 'https://app.example.test'
let w: SdkWorld
let prod: TestEnv
let dev: TestEnv
beforeAll(async () => {
  w = await sdkWorld([{ type: 'production' }, { type: 'development' }])
  ;[prod, dev] = w.h.envs as [TestEnv, TestEnv]
  for (const env of [prod, dev]) {
    const res = await w.h.bapi('PATCH', '/v1/instance', { allowed_origins: [APP] }, { env })
    if (res.status !== 200) throw new Error(await res.text())
  }
})
afterAll(() => w.close())

async function signedIn(env: TestEnv) {
  const email = uniqueEmail('auth')
  const user = await w.clerkFor(env).users.createUser({ emailAddress: [email], password: PASSWORD })
  return { user, ...(await browserSignIn(w.h, email, env)) }
}

/** A page load of the app, as a browser sends it. */
const page = (url: string, cookies: Record<string, string> = {}) =>
  new Request(url, {
    headers: {
      accept: 'text/html',
      'sec-fetch-dest': 'document',
      cookie: Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; '),
    },
  })

const authenticate = (env: TestEnv, request: Request) =>
  w.clerkFor(env).authenticateRequest(request, { publishableKey: env.publishableKey })

/** The cookies a response's Set-Cookie headers set (a browser on the app's origin keeps them). */
function cookiesSet(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';')
    const i = pair!.indexOf('=')
    out[pair!.slice(0, i)] = pair!.slice(i + 1)
  }
  return out
}

/** The browser follows the SDK's redirect to our handshake, which redirects back to the app. */
async function followHandshake(b: Browser, location: string) {
  const url = new URL(location)
  const res = await b.call('GET', url.pathname + url.search)
  expect(res.status).toBe(307)
  return res.headers.get('location')!
}

describe('@clerk/backend authenticateRequest', () => {
  for (const kind of ['production', 'development'] as const) {
    it(`accepts the session token as a Bearer header (${kind})`, async () => {
      const env = kind === 'production' ? prod : dev
      const { user, sid } = await signedIn(env)
      const { jwt } = await w.clerkFor(env).sessions.getToken(sid)
      const state = await authenticate(
        env,
        new Request(`${APP}/api/me`, { headers: { authorization: `Bearer ${jwt}` } }),
      )
      expect(state.status).toBe('signed-in')
      const auth = state.toAuth()
      expect(auth?.userId).toBe(user.id)
      expect(auth?.sessionId).toBe(sid)
    })
  }

  it('signs a production page in through the handshake, then from the __session and __client_uat cookies', async () => {
    const { user, sid, b } = await signedIn(prod)
    // __client_uat says the client changed, there is no session token yet: handshake.
    const first = await authenticate(prod, page(`${APP}/dashboard`, { __client_uat: '1' }))
    expect(first.status).toBe('handshake')
    const location = first.headers.get('location')!
    expect(new URL(location).host).toBe(prod.host)
    expect(new URL(location).pathname).toBe('/v1/client/handshake')

    const back = await followHandshake(b, location)
    expect(back.startsWith(`${APP}/dashboard?`)).toBe(true)
    expect(new URL(back).searchParams.get('__clerk_handshake')).toBeString()

    const resolved = await authenticate(prod, page(back))
    expect(resolved.status).toBe('signed-in')
    expect(resolved.toAuth()?.userId).toBe(user.id)
    expect(resolved.toAuth()?.sessionId).toBe(sid)
    const jar = cookiesSet(resolved.headers)
    expect(Object.keys(jar).sort()).toEqual(['__client_uat', '__session'])

    const later = await authenticate(prod, page(`${APP}/settings`, jar))
    expect(later.status).toBe('signed-in')
    expect(later.toAuth()?.userId).toBe(user.id)

    // Several apps on one domain: the suffixed cookies win.
    const sfx = await getCookieSuffix(prod.publishableKey)
    const suffixed = await authenticate(
      prod,
      page(`${APP}/settings`, {
        [`__session_${sfx}`]: jar.__session!,
        [`__client_uat_${sfx}`]: jar.__client_uat!,
      }),
    )
    expect(suffixed.status).toBe('signed-in')
    expect(suffixed.toAuth()?.sessionId).toBe(sid)
  })

  it('answers a signed-out browser’s handshake with cleared cookies (signed out, no loop)', async () => {
    const { b } = await signedIn(prod)
    await b.json('DELETE', '/v1/client')
    const first = await authenticate(prod, page(`${APP}/`, { __client_uat: '1' }))
    expect(first.status).toBe('handshake')
    const resolved = await authenticate(prod, page(await followHandshake(b, first.headers.get('location')!)))
    expect(resolved.status).toBe('signed-out')
    expect(cookiesSet(resolved.headers).__client_uat).toBe('0')
  })

  it('signs a development page in: the handshake brings the dev browser token with the session', async () => {
    const { user, sid, b } = await signedIn(dev)
    const first = await authenticate(dev, page(`${APP}/dashboard`))
    expect(first.status).toBe('handshake')
    expect(first.reason).toBe('dev-browser-missing')

    const back = await followHandshake(b, first.headers.get('location')!)
    const resolved = await authenticate(dev, page(back))
    expect(resolved.status).toBe('signed-in')
    expect(resolved.toAuth()?.userId).toBe(user.id)
    // Development: the SDK sends the browser back to the page without the handshake parameter.
    expect(resolved.headers.get('location')).toBe(`${APP}/dashboard`)
    const jar = cookiesSet(resolved.headers)
    expect(jar.__clerk_db_jwt).toBeString()

    const later = await authenticate(dev, page(`${APP}/dashboard`, jar))
    expect(later.status).toBe('signed-in')
    expect(later.toAuth()?.sessionId).toBe(sid)
  })

  it('mints dev browser tokens only for development envs, and the handshake checks the one it is handed', async () => {
    const made = await w.h.fapi('POST', '/v1/dev_browser', undefined, { env: dev })
    expect(made.status).toBe(200)
    const { id, token } = (await made.json()) as { id: string; token: string }
    expect(id).toBe(token)

    const refused = await w.h.fapi('POST', '/v1/dev_browser', undefined, { env: prod })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as any).errors[0].code).toBe('request_invalid_for_environment')

    const handshake = (db: string) =>
      w.h.fapi(
        'GET',
        `/v1/client/handshake?redirect_url=${encodeURIComponent(APP)}&__clerk_api_version=2025-11-10&suffixed_cookies=false&__clerk_db_jwt=${db}`,
        undefined,
        { env: dev },
      )
    expect((await handshake(token)).status).toBe(307)
    const forged = await handshake(`${token.slice(0, -4)}AAAA`)
    expect(forged.status).toBe(401)
    expect(((await forged.json()) as any).errors[0].code).toBe('dev_browser_unauthenticated')
  })
})
