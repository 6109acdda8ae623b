import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { grantConsent } from '../../../src/domain/oauth/service'
import { browser } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}, { type: 'production', host: `clerk.prod${process.pid}.test` }] })
})
afterAll(() => h.close())

const PASSWORD = 'correct horse battery'
let n = 0
async function signedInUser() {
  const email = `oauth${++n}+authn_test@example.com`
  const user = await body(await h.bapi('POST', '/v1/users', { email_address: [email], password: PASSWORD }))
  const b = browser(h)
  const si = await b.json('POST', '/v1/client/sign-ins', {
    identifier: email,
    password: PASSWORD,
    strategy: 'password',
  })
  expect(si.body.response.status).toBe('complete')
  return { user, b }
}

describe('OAuth applications (BAPI)', () => {
  it('shows the secret once, stores only its hash, derives the provider URLs', async () => {
    const res = await h.bapi('POST', '/v1/oauth-applications', {
      name: 'Acme CRM',
      redirect_uris: ['https://crm.example.com/callback', 'http://127.0.0.1/cb'],
      scopes: 'openid profile email offline_access',
      homepage_url: 'https://crm.example.com',
    })
    expect(res.status).toBe(200)
    const app = await body(res)
    const base = `https://${h.env.host}`
    expect(app).toEqual({
      object: 'oauth_application',
      id: expect.stringMatching(/^oa_[0-9A-HJKMNP-TV-Z]{26}$/),
      instance_id: h.env.id,
      name: 'Acme CRM',
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      is_public: false,
      pkce_required: false,
      redirect_uris: ['https://crm.example.com/callback', 'http://127.0.0.1/cb'],
      scopes: 'openid profile email offline_access',
      consent_screen_enabled: true,
      homepage_url: 'https://crm.example.com',
      logo_url: null,
      dynamically_registered: false,
      authorize_url: `${base}/oauth/authorize`,
      token_fetch_url: `${base}/oauth/token`,
      user_info_url: `${base}/oauth/userinfo`,
      discovery_url: `${base}/.well-known/openid-configuration`,
      token_introspection_url: `${base}/oauth/token_info`,
      created_at: h.clock.now(),
      updated_at: h.clock.now(),
    })
    const { client_secret, ...rest } = app
    expect(await body(await h.bapi('GET', `/v1/oauth-applications/${app.id}`))).toEqual(rest)
    const list = await body(await h.bapi('GET', '/v1/oauth-applications?include_total_count=true'))
    expect(list.data).toContainEqual(rest)
    expect(JSON.stringify(list)).not.toContain(client_secret)
    const stored = h.ctx((ctx) =>
      ctx.client.query('SELECT secret_hash FROM oauth_applications WHERE id = ?').get(app.id),
    ) as { secret_hash: string }
    expect(stored.secret_hash).toBe(new Bun.CryptoHasher('sha256').update(client_secret).digest('hex'))

    // Rotation: a new secret, shown once, different from the old one.
    const rotated = await body(await h.bapi('POST', `/v1/oauth-applications/${app.id}/rotate-secret`))
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(rotated.client_secret).not.toBe(client_secret)
    expect(rotated.client_id).toBe(app.client_id)
  })

  it('creates public apps without a secret, with PKCE and consent forced on', async () => {
    const app = await body(
      await h.bapi('POST', '/v1/oauth-applications', {
        name: 'CLI',
        is_public: true,
        redirect_uris: ['http://127.0.0.1/callback', 'com.example.cli:/oauth'],
        consent_screen_enabled: false,
      }),
    )
    expect(app).toMatchObject({
      is_public: true,
      client_secret: null,
      pkce_required: true,
      consent_screen_enabled: true,
    })
    expect(app.scopes).toBe('profile email')
    const rotate = await h.bapi('POST', `/v1/oauth-applications/${app.id}/rotate-secret`)
    expect(rotate.status).toBe(422)
    const patch = await h.bapi('PATCH', `/v1/oauth-applications/${app.id}`, { consent_screen_enabled: false })
    expect(patch.status).toBe(422)
  })

  it('updates what may change and refuses to change is_public and client_id', async () => {
    const app = await body(
      await h.bapi('POST', '/v1/oauth-applications', {
        name: 'A',
        redirect_uris: ['https://a.example.com/cb'],
      }),
    )
    h.clock.advance(1000)
    const updated = await body(
      await h.bapi('PATCH', `/v1/oauth-applications/${app.id}`, {
        name: 'B',
        redirect_uris: ['https://b.example.com/cb'],
        scopes: 'openid email',
        consent_screen_enabled: false,
        pkce_required: true,
        logo_url: 'https://b.example.com/logo.png',
        is_public: false,
        client_id: app.client_id,
      }),
    )
    expect(updated).toMatchObject({
      name: 'B',
      redirect_uris: ['https://b.example.com/cb'],
      scopes: 'openid email',
      consent_screen_enabled: false,
      pkce_required: true,
      logo_url: 'https://b.example.com/logo.png',
      updated_at: h.clock.now(),
    })
    for (const change of [{ is_public: true }, { client_id: 'mine' }]) {
      const res = await h.bapi('PATCH', `/v1/oauth-applications/${app.id}`, change)
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0].code).toBe('form_param_immutable')
    }
    expect(await body(await h.bapi('GET', `/v1/oauth-applications/${app.id}`))).toMatchObject({ name: 'B' })
  })

  it('refuses bad redirect URIs and unknown scopes with a 422, creating nothing', async () => {
    const before = await body(await h.bapi('GET', '/v1/oauth-applications?include_total_count=true'))
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ redirect_uris: ['/relative'] }, 'redirect_uris'],
      [{ redirect_uris: ['https://a.example.com/cb#frag'] }, 'redirect_uris'],
      [{ redirect_uris: ['https://user:pw@a.example.com/cb'] }, 'redirect_uris'],
      [{ redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris'],
      [{ scopes: 'openid admin' }, 'scopes'],
    ]
    for (const [extra, param] of bad) {
      const res = await h.bapi('POST', '/v1/oauth-applications', { name: 'X', ...extra })
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0].meta.param_name).toBe(param)
    }
    // Production: plain http only on loopback.
    const prod = h.envs[1]!
    const res = await h.bapi(
      'POST',
      '/v1/oauth-applications',
      { name: 'X', redirect_uris: ['http://app.example.com/cb'] },
      { env: prod },
    )
    expect(res.status).toBe(422)
    const ok = await h.bapi(
      'POST',
      '/v1/oauth-applications',
      { name: 'X', redirect_uris: ['http://127.0.0.1/cb'] },
      { env: prod },
    )
    expect(ok.status).toBe(200)
    const after = await body(await h.bapi('GET', '/v1/oauth-applications?include_total_count=true'))
    expect(after.total_count).toBe(before.total_count)
    expect((await h.bapi('GET', '/v1/oauth-applications/oa_nope')).status).toBe(422)
    expect((await h.bapi('GET', '/v1/oauth-applications/oa_01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404)
  })

  it('lists and revokes grants as the operator and as the user; deleting the app revokes all', async () => {
    const app = await body(
      await h.bapi('POST', '/v1/oauth-applications', {
        name: 'G',
        redirect_uris: ['https://g.example.com/cb'],
      }),
    )
    const ada = await signedInUser()
    const bob = await signedInUser()
    const g1 = h.ctx((ctx) => grantConsent(ctx, app.id, ada.user.id, ['profile']))
    const g2 = h.ctx((ctx) => grantConsent(ctx, app.id, bob.user.id, ['email']))
    // Consent again with more scopes widens the same grant.
    expect(h.ctx((ctx) => grantConsent(ctx, app.id, ada.user.id, ['email'])).id).toBe(g1.id)

    const listed = await body(await h.bapi('GET', `/v1/oauth-applications/${app.id}/authorization-grants`))
    expect(listed.data.map((g: any) => g.id)).toEqual([g2.id, g1.id])
    expect(listed.data[1]).toMatchObject({
      object: 'oauth_authorization_grant',
      oauth_application_id: app.id,
      oauth_application_name: 'G',
      client_id: app.client_id,
      user_id: ada.user.id,
      scopes: ['profile', 'email'],
    })

    // The user sees their own grant only.
    const mine = await ada.b.json('GET', '/v1/me/oauth-authorization-grants')
    expect(mine.body.response.data.map((g: any) => g.id)).toEqual([g1.id])
    expect((await ada.b.json('GET', `/v1/me/oauth-authorization-grants/${g1.id}`)).body.response.id).toBe(
      g1.id,
    )
    expect((await ada.b.json('GET', `/v1/me/oauth-authorization-grants/${g2.id}`)).status).toBe(404)
    expect((await ada.b.json('DELETE', `/v1/me/oauth-authorization-grants/${g2.id}`)).status).toBe(404)
    const revoked = await ada.b.json('DELETE', `/v1/me/oauth-authorization-grants/${g1.id}`)
    expect(revoked.body.response).toEqual({ object: 'oauth_authorization_grant', id: g1.id, deleted: true })
    expect((await ada.b.json('GET', '/v1/me/oauth-authorization-grants')).body.response.data).toEqual([])

    // Operator revoke: the grant must belong to the app.
    const other = await body(
      await h.bapi('POST', '/v1/oauth-applications', {
        name: 'O',
        redirect_uris: ['https://o.example.com/cb'],
      }),
    )
    expect(
      (await h.bapi('DELETE', `/v1/oauth-applications/${other.id}/authorization-grants/${g2.id}`)).status,
    ).toBe(404)
    const g3 = h.ctx((ctx) => grantConsent(ctx, other.id, bob.user.id, ['profile']))
    expect((await h.bapi('DELETE', `/v1/oauth-applications/${app.id}`)).status).toBe(200)
    expect((await h.bapi('GET', `/v1/oauth-applications/${app.id}`)).status).toBe(404)
    const left = h.ctx((ctx) => ctx.client.query('SELECT id FROM oauth_grants').all()) as Array<{
      id: string
    }>
    expect(left.map((r) => r.id)).toEqual([g3.id])
    const events = await body(await h.bapi('GET', '/v1/events?type=oauthGrant.revoked'))
    expect(events.data.map((e: any) => e.data.id)).toContain(g2.id)
  })
})
