import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// oidc-provider ships no type declarations: it is loaded untyped.
const Provider: any = require('oidc-provider').default

/**
 * oidc-provider as a real OIDC IdP on loopback. Its login and consent interaction is answered
 * in code (the account the test names is signed in, the requested scopes granted); everything
 * else (authorization, PKCE, tokens, signed id_tokens, userinfo, JWKS, discovery) is the
 * provider's own.
 */

export interface TestAccount {
  sub: string
  email: string
  email_verified?: boolean | string
  given_name?: string
  family_name?: string
}

export interface TestOidcIdp {
  issuer: string
  clientId: string
  clientSecret: string
  /** Who signs in at the next interaction. */
  signInAs(account: TestAccount): void
  close(): Promise<void>
}

export async function startOidcIdp(redirectUris: string[]): Promise<TestOidcIdp> {
  const accounts = new Map<string, TestAccount>()
  let next: TestAccount | null = null
  const clientId = 'authn-enterprise'
  const clientSecret = 'a-long-enough-client-secret-for-tests-0123456789'
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
    // Its own signing key (oidc-provider's development keys are the same everywhere).
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: crypto.randomUUID(),
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    findAccount: async (_ctx: unknown, id: string) => {
      const account = accounts.get(id)
      return account ? { accountId: id, claims: async () => ({ ...account }) } : undefined
    },
  })
  provider.proxy = false
  const callback = provider.callback()
  server.on('request', async (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      try {
        const details = await provider.interactionDetails(req, res)
        const account = next
        if (!account) throw new Error('no account to sign in')
        accounts.set(account.sub, account)
        const grant = new provider.Grant({
          accountId: account.sub,
          clientId: String(details.params.client_id),
        })
        grant.addOIDCScope(String(details.params.scope))
        const grantId = await grant.save()
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account.sub }, consent: { grantId } },
          { mergeWithLastSubmission: false },
        )
      } catch (e) {
        res.statusCode = 500
        res.end(String(e))
      }
      return
    }
    callback(req, res)
  })
  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(account) {
      next = account
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * Follows the IdP's redirects like a browser (keeping its cookies) until it sends the browser
 * back to `until`: the callback URL with code, state and iss.
 */
export async function followToCallback(start: string, until: string): Promise<URL> {
  const jar = new Map<string, string>()
  let url = start
  for (let i = 0; i < 10; i++) {
    if (url.startsWith(until)) return new URL(url)
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
    const location = res.headers.get('location')
    if (!location)
      throw new Error(`the IdP stopped at ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`)
    await res.body?.cancel()
    url = new URL(location, url).href
  }
  throw new Error('too many redirects')
}
