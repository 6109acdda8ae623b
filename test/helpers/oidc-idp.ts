import http from 'node:http'
import * as jose from 'jose'
import { Provider } from 'oidc-provider'

/**
 * A real upstream OpenID Provider on loopback: node-oidc-provider (panva), with a programmatic
 * interaction that logs in `state.nextAccount` and consents to what was asked (recipe:
 * shared/reference/social-providers.md §6). Tests drive the browser leg with fetch and a cookie
 * jar (`authorize`), stopping at our callback.
 */

export interface IdpAccount {
  email?: string
  email_verified?: boolean
  name?: string
  given_name?: string
  family_name?: string
  [claim: string]: unknown
}

export interface IdpClient {
  client_id: string
  client_secret?: string
  redirect_uris: string[]
  grant_types?: string[]
  token_endpoint_auth_method?: string
  [meta: string]: unknown
}

export interface Idp {
  issuer: string
  provider: Provider
  state: { nextAccount: string }
  accounts: Record<string, IdpAccount>
  /**
   * Follows the authorization URL through the IdP's login and consent (its cookies kept per
   * call, or in `jar` to come back as the same browser) until it redirects to `stopAt`; the
   * callback URL it lands on.
   */
  authorize(url: string, stopAt: string, jar?: Map<string, string>): Promise<URL>
  close(): Promise<void>
}

export async function startIdp(opts: {
  clients: IdpClient[]
  accounts: Record<string, IdpAccount>
  conformIdTokenClaims?: boolean
}): Promise<Idp> {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'idp-test', alg: 'RS256', use: 'sig' }
  const server = http.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const issuer = `http://127.0.0.1:${port}`
  const accounts = opts.accounts
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      grant_types: ['authorization_code', 'refresh_token'],
      ...c,
    })) as never,
    jwks: { keys: [jwk] } as never,
    cookies: { keys: ['test-cookie-key'] },
    conformIdTokenClaims: opts.conformIdTokenClaims ?? true,
    findAccount: async (_ctx, sub) =>
      accounts[sub] ? { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) } : undefined,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture', 'preferred_username'],
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    // Refresh tokens for every client that may use them (the backend token route refreshes).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: 3600, IdToken: 3600 },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
  })
  const state = { nextAccount: Object.keys(accounts)[0]! }
  const handler = provider.callback()
  server.on('request', async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return handler(req, res)
    try {
      const d = await provider.interactionDetails(req, res)
      const accountId = (d.session?.accountId as string | undefined) ?? state.nextAccount
      const grant = d.grantId
        ? (await provider.Grant.find(d.grantId))!
        : new provider.Grant({ accountId, clientId: String(d.params.client_id) })
      grant.addOIDCScope(String(d.params.scope ?? 'openid'))
      const details = d.prompt.details as { missingOIDCClaims?: string[] }
      if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims)
      const result: Record<string, unknown> = { consent: { grantId: await grant.save() } }
      if (d.prompt.name === 'login') result.login = { accountId }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true })
    } catch (err) {
      res.statusCode = 500
      res.end(String(err))
    }
  })

  async function authorize(url: string, stopAt: string, jar = new Map<string, string>()): Promise<URL> {
    let next = url
    for (let hop = 0; hop < 20; hop++) {
      if (next.startsWith(stopAt)) return new URL(next)
      const res = await fetch(next, {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      })
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';')
        const i = pair!.indexOf('=')
        jar.set(pair!.slice(0, i), pair!.slice(i + 1))
      }
      const location = res.headers.get('location')
      if (!location) throw new Error(`the IdP stopped at ${next}: ${res.status} ${await res.text()}`)
      next = new URL(location, next).toString()
    }
    throw new Error('too many redirects at the IdP')
  }

  return {
    issuer,
    provider,
    state,
    accounts,
    authorize,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
