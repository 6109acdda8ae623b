import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { type Browser, chromium } from 'playwright-core'
import { createHarness, type Harness } from '../helpers/harness'
import { loginResponse, parseAuthnRequest, testIdp } from '../helpers/saml-idp'

/**
 * Enterprise SSO end to end in headless Chromium (Debian `chromium`, driven by playwright-core):
 * the app asks for an enterprise sign-in with the person's email, the browser follows our start
 * hop to samlify (a real IdP on another loopback site), which posts its signed response back
 * to our ACS cross-site; the SameSite=Lax cookie comes along on our same-origin re-post; the
 * app lands signed in. The session token is verified with jose against our JWKS, with the
 * organization the connection provisioned the person into.
 */

const CHROMIUM = '/usr/bin/chromium'
let h: Harness
let app: ReturnType<typeof Bun.serve>
let idpServer: ReturnType<typeof Bun.serve>
let browser: Browser
const host = 'sso-e2e.localhost'
const idp = testIdp({ entityId: 'https://idp.e2e.test/saml' })
let conn: any
let org: any
let frontend: string

beforeAll(async () => {
  h = await createHarness({ now: new Date().toISOString(), envs: [{ host }] })
  app = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => h.rt.server.handle(req, '127.0.0.1') })
  h.rt.setLocalPort(app.port!)
  frontend = `http://${host}:${app.port}`
  // The IdP: parses our AuthnRequest, "signs the person in", posts its response back (HTTP-POST).
  idpServer = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const request = await parseAuthnRequest(idp, conn.saml_sp_entity_id, conn.saml_acs_url, req.url)
      const { base64 } = await loginResponse(idp, {
        spEntityId: conn.saml_sp_entity_id,
        acsUrl: request.acs,
        nameId: 'hank@e2e-corp.test',
        inResponseTo: request.id,
        attributes: { firstName: 'Hank', lastName: 'Scorpio' },
      })
      const html = `<!doctype html><form method="post" action="${request.acs}"><input type="hidden" name="SAMLResponse" value="${base64}"><input type="hidden" name="RelayState" value="${request.relayState}"></form><script>document.forms[0].submit()</script>`
      return new Response(html, { headers: { 'content-type': 'text/html' } })
    },
  })
  const bapi = async (method: string, path: string, body?: unknown) =>
    (await h.bapi(method, path, body as Record<string, unknown>)).json() as Promise<any>
  await bapi('PATCH', '/v1/instance', { organizations: { enabled: true, domains_enabled: true } })
  org = await bapi('POST', '/v1/organizations', { name: 'Globex E2E' })
  // An org-scoped connection routes only a domain the organization has verified.
  await bapi('POST', `/v1/organizations/${org.id}/domains`, { name: 'e2e-corp.test', verified: true })
  conn = await bapi('POST', '/v1/enterprise-connections', {
    name: 'E2E IdP',
    protocol: 'saml',
    organization_id: org.id,
    domains: ['e2e-corp.test'],
    saml_idp_entity_id: idp.entityId,
    saml_idp_sso_url: `http://127.0.0.1:${idpServer.port}/sso`,
    saml_idp_certificate: idp.cert,
  })
  expect(conn.saml_acs_url).toBe(`${frontend}/v1/saml/${conn.id}/acs`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  idpServer?.stop(true)
  app?.stop(true)
  h?.close()
})

describe('enterprise SSO in a real browser', () => {
  it.skipIf(!existsSync(CHROMIUM))(
    'identifier → IdP → ACS → the app is signed in, JIT into the organization',
    async () => {
      const page = await browser.newPage()
      // The app runs on the Frontend API's origin: it starts the sign-in as clerk-js would.
      await page.goto(`${frontend}/v1/environment`)
      const redirect = await page.evaluate(async (back) => {
        const res = await fetch('/v1/client/sign-ins', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            strategy: 'enterprise_sso',
            identifier: 'hank@e2e-corp.test',
            redirect_url: back,
          }),
        })
        const body = (await res.json()) as any
        return body.response.first_factor_verification.external_verification_redirect_url as string
      }, `${frontend}/v1/environment?signed_in=1`)
      expect(redirect).toStartWith(`${frontend}/v1/saml/${conn.id}/start?state=`)
      const visited: string[] = []
      page.on('request', (r) => {
        if (r.isNavigationRequest())
          visited.push(`${r.method()} ${new URL(r.url()).origin}${new URL(r.url()).pathname}`)
      })
      await page.goto(redirect)
      await page.waitForURL((u) => u.searchParams.get('signed_in') === '1', { timeout: 15_000 })
      // Through the IdP and back: its cross-site post, then our same-origin re-post with the cookie.
      expect(visited).toContain(`GET http://127.0.0.1:${idpServer.port}/sso`)
      expect(visited.filter((v) => v === `POST ${frontend}/v1/saml/${conn.id}/acs`)).toHaveLength(2)
      const landed = new URL(page.url())
      expect(landed.searchParams.get('__authn_status')).toBe('verified')
      const sid = landed.searchParams.get('__authn_created_session')!
      expect(sid).toMatch(/^sess_/)

      // The app mints a session token for the organization the connection provisioned.
      const jwt = await page.evaluate(
        async ([session, orgId]) => {
          const res = await fetch(`/v1/client/sessions/${session}/tokens`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ organization_id: orgId }),
          })
          return ((await res.json()) as any).jwt as string
        },
        [sid, org.id],
      )
      const jwks = (await (await h.fapi('GET', '/.well-known/jwks.json')).json()) as JSONWebKeySet
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks))
      expect(payload).toMatchObject({ sid, o: { id: org.id, rol: 'member' } })
      const user = (await (await h.bapi('GET', `/v1/users/${payload.sub}`)).json()) as any
      expect(user).toMatchObject({ first_name: 'Hank', last_name: 'Scorpio' })
      expect(user.enterprise_accounts[0]).toMatchObject({ enterprise_connection_id: conn.id })
      await page.close()
    },
    60_000,
  )
})
