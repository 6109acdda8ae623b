import { expect } from 'bun:test'
import * as client from 'openid-client'
import type { Delivery } from '../../src/lib/delivery'
import { browser } from '../helpers/browser'
import { body, createHarness, type Harness, type TestEnv } from '../helpers/harness'

/**
 * The OAuth provider on a real loopback port (Bun.serve in front of the dispatcher), an env that
 * answers on 127.0.0.1, and helpers to drive the person's side of the flow with fetch and the
 * client cookie from a FAPI sign-in. The relying party is openid-client, unmodified.
 */
export interface Provider {
  h: Harness
  env: TestEnv
  issuer: string
  stop(): Promise<void>
}

export const PASSWORD = 'correct horse battery'

export async function startProvider(
  opts: { delivery?: Delivery; rateLimits?: boolean } = {},
): Promise<Provider> {
  // The clock starts now: openid-client checks iat/exp against the real time.
  const h = await createHarness({
    envs: [{ host: '127.0.0.1', name: 'Acme' }],
    now: new Date().toISOString(),
    delivery: opts.delivery,
    rateLimits: opts.rateLimits,
  })
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req, srv) => h.rt.server.handle(req, srv.requestIP(req)?.address ?? null),
  })
  return {
    h,
    env: h.env,
    issuer: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop(true)
      h.close()
    },
  }
}

let n = 0

/** A user with a password, signed in through the Frontend API: answers the client cookie. */
export async function signedInPerson(p: Provider, extra: Record<string, unknown> = {}) {
  const email = `person${++n}+authn_test@example.com`
  const user = await body(
    await p.h.bapi('POST', '/v1/users', {
      email_address: [email],
      password: PASSWORD,
      first_name: 'Ada',
      ...extra,
    }),
  )
  const b = browser(p.h, p.env)
  const si = await b.json('POST', '/v1/client/sign-ins', {
    identifier: email,
    password: PASSWORD,
    strategy: 'password',
  })
  expect(si.body.response.status).toBe('complete')
  return { user, email, cookie: `__authn_client=${b.cookie}`, sessionId: si.body.response.created_session_id }
}

/** The test apps' redirect URI (nothing listens there: the tests read the redirect itself). */
export const REDIRECT = 'http://127.0.0.1:9/callback'

export async function createApp(p: Provider, input: Record<string, unknown>) {
  const res = await p.h.bapi('POST', '/v1/oauth-applications', {
    name: 'Acme Notes',
    redirect_uris: [REDIRECT],
    scopes: 'openid profile email offline_access public_metadata',
    ...input,
  })
  expect(res.status).toBe(200)
  return body(res)
}

/** openid-client against our discovery document (plain http is allowed for loopback tests only). */
export const discover = (
  p: Provider,
  clientId: string,
  auth: client.ClientAuth,
  metadata?: Partial<client.ClientMetadata>,
) =>
  client.discovery(new URL(p.issuer), clientId, metadata, auth, { execute: [client.allowInsecureRequests] })

export interface Visit {
  status: number
  location: string | null
  html: string
  res: Response
}

/** One browser request with the person's cookie, redirects not followed. */
export async function visit(url: string, cookie: string | null, init: RequestInit = {}): Promise<Visit> {
  const headers = new Headers(init.headers)
  if (cookie) headers.set('cookie', cookie)
  const res = await fetch(url, { ...init, headers, redirect: 'manual' })
  return { status: res.status, location: res.headers.get('location'), html: await res.text(), res }
}

/** The hidden fields of the consent form. */
export function consentFields(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]!] = m[2]!
      .replaceAll('&amp;', '&')
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
  }
  return out
}

/** Posts the consent form with the person's decision. */
export function decide(
  p: Provider,
  cookie: string,
  fields: Record<string, string>,
  decision: 'allow' | 'deny',
) {
  return visit(`${p.issuer}/oauth/consent`, cookie, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision }).toString(),
  })
}

/**
 * Follows an authorization URL as a signed-in browser: the consent page (Allow) when shown,
 * until the redirect back to the client. Answers the callback URL.
 */
export async function authorizeAsPerson(p: Provider, url: URL, cookie: string) {
  let v = await visit(url.href, cookie)
  let consentShown = false
  if (v.status === 200 && v.html.includes('csrf_token')) {
    consentShown = true
    v = await decide(p, cookie, consentFields(v.html), 'allow')
    expect(v.status).toBe(303)
  }
  expect(v.status === 302 || v.status === 303).toBe(true)
  return { callback: new URL(v.location!), consentShown }
}

/** An authorization request with PKCE and state to REDIRECT (`openid email` unless `extra` says). */
export async function authorizationUrl(config: client.Configuration, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  })
  return { url, verifier, state }
}

/**
 * From a page back on /oauth/authorize, in the jar's browser: consent (Allow) when shown, then
 * the redirect to the client. Answers the callback URL.
 */
export async function jarToCallback(p: Provider, jar: Jar, location: string) {
  let v = await jar.visit(new URL(location, p.issuer).href)
  if (v.status === 200) {
    expect(v.html).toContain('wants to access your')
    v = await jar.post(`${p.issuer}/oauth/consent`, { ...consentFields(v.html), decision: 'allow' })
    expect(v.status).toBe(303)
  }
  expect(v.status === 302 || v.status === 303).toBe(true)
  return new URL(v.location!)
}

/** A browser's cookie jar for one host: keeps what Set-Cookie says, sends it back. */
export class Jar {
  cookies = new Map<string, string>()
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') || null
  }
  keep(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim())
    }
  }
  async visit(url: string, init: RequestInit = {}): Promise<Visit> {
    const v = await visit(url, this.header(), init)
    this.keep(v.res)
    return v
  }
  post(url: string, fields: Record<string, string>) {
    return this.visit(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
      body: new URLSearchParams(fields).toString(),
    })
  }
}

/** The fields of the form on a page that submits with this intent (hosted sign-in). */
export function formWithIntent(html: string, intent: string, strategy?: string): Record<string, string> {
  for (const m of html.matchAll(/<form method="post"[^>]*>([\s\S]*?)<\/form>/g)) {
    const fields = consentFields(m[1]!)
    if (fields.intent === intent && (strategy === undefined || fields.strategy === strategy)) return fields
  }
  throw new Error(`no form with intent ${intent} ${strategy ?? ''} on the page:\n${html.slice(0, 2000)}`)
}
