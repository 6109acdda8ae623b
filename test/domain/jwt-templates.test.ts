import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { mintTemplateToken } from '../../src/domain/jwt-templates/mint'
import { body, createHarness, type Harness } from '../helpers/harness'

let h: Harness
let user: Record<string, any>
beforeAll(async () => {
  h = await createHarness()
  user = await body(
    await h.bapi('POST', '/v1/users', {
      email_address: ['ada@example.com'],
      password: 'correct horse battery',
      first_name: 'Ada',
      last_name: 'Lovelace',
      public_metadata: { profile: { plan: 'pro' }, seats: 3 },
      private_metadata: { secret: 'do-not-leak' },
    }),
  )
})
afterAll(() => h.close())

let seq = 0
async function createTemplate(extra: Record<string, unknown> = {}) {
  const res = await h.bapi('POST', '/v1/jwt-templates', { name: `tpl-${++seq}`, claims: {}, ...extra })
  const b = await body(res)
  if (res.status !== 200) throw new Error(JSON.stringify(b))
  return b
}
async function mint(name: string, userId = user.id) {
  return h.bapi('POST', `/v1/users/${userId}/jwt-templates/${name}/tokens`)
}
async function jwks() {
  return createLocalJWKSet(await body(await h.bapi('GET', '/v1/jwks')))
}
const generate = generateKeyPairSync as unknown as (
  type: string,
  opts: Record<string, unknown>,
) => { privateKey: KeyObject }
const pem = (type: 'rsa' | 'ec' | 'ed25519', opts: Record<string, unknown> = {}) =>
  generate(type, { modulusLength: 2048, ...opts }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string

describe('JWT template CRUD', () => {
  it('creates with defaults, never returns a key, lists, updates, deletes, and emits events', async () => {
    const t = await createTemplate({ name: 'crud', claims: { role: 'reader' } })
    expect(t).toEqual({
      object: 'jwt_template',
      id: expect.stringMatching(/^jtmp_[0-9A-HJKMNP-TV-Z]{26}$/),
      name: 'crud',
      claims: { role: 'reader' },
      lifetime: 60,
      allowed_clock_skew: 5,
      has_custom_signing_key: false,
      signing_algorithm: null,
      created_at: h.clock.now(),
      updated_at: h.clock.now(),
    })
    expect(await body(await h.bapi('GET', `/v1/jwt-templates/${t.id}`))).toEqual(t)
    const list = await body(await h.bapi('GET', '/v1/jwt-templates?include_total_count=true&limit=500'))
    expect(list.data.map((x: any) => x.id)).toContain(t.id)
    expect(list.total_count).toBe(list.data.length)

    h.clock.advance(1000)
    const updated = await body(
      await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { lifetime: 300, claims: { role: 'writer' } }),
    )
    expect(updated).toMatchObject({ lifetime: 300, claims: { role: 'writer' }, updated_at: h.clock.now() })

    const del = await h.bapi('DELETE', `/v1/jwt-templates/${t.id}`)
    expect(await body(del)).toEqual({ object: 'jwt_template', id: t.id, deleted: true })
    expect((await h.bapi('GET', `/v1/jwt-templates/${t.id}`)).status).toBe(404)
    expect((await mint('crud')).status).toBe(404)

    const events = await body(await h.bapi('GET', '/v1/events?limit=100'))
    const mine = events.data.filter((e: any) => e.data.id === t.id).map((e: any) => e.type)
    expect(mine).toEqual(['jwtTemplate.deleted', 'jwtTemplate.updated', 'jwtTemplate.created'])
  })

  it('pages newest first with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createTemplate()
    const all = (await body(await h.bapi('GET', '/v1/jwt-templates?limit=500'))).data.map((t: any) => t.id)
    const paged: string[] = []
    let cursor = ''
    do {
      const page = await body(
        await h.bapi('GET', `/v1/jwt-templates?limit=2${cursor && `&cursor=${cursor}`}`),
      )
      paged.push(...page.data.map((t: any) => t.id))
      cursor = page.meta.next_cursor ?? ''
    } while (cursor)
    expect(paged).toEqual(all)
    expect([...all].sort().reverse()).toEqual(all)
  })

  it('refuses a duplicate name', async () => {
    await createTemplate({ name: 'dup' })
    const res = await h.bapi('POST', '/v1/jwt-templates', { name: 'dup', claims: {} })
    expect(res.status).toBe(422)
    expect((await body(res)).errors[0]).toMatchObject({
      code: 'form_identifier_exists',
      meta: { param_name: 'name' },
    })
  })

  it('rejects reserved claims at create and at update, with a clear error', async () => {
    const res = await h.bapi('POST', '/v1/jwt-templates', {
      name: 'reserved',
      claims: { sub: 'x', iss: 'y' },
    })
    expect(res.status).toBe(422)
    const err = (await body(res)).errors[0]
    expect(err).toMatchObject({ code: 'jwt_template_reserved_claim', meta: { param_name: 'claims' } })
    expect(err.long_message).toContain('iss, sub')

    const t = await createTemplate()
    const upd = await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { claims: { azp: 'x' } })
    expect(upd.status).toBe(422)
    expect((await body(upd)).errors[0].code).toBe('jwt_template_reserved_claim')
  })

  it('rejects malformed shortcodes, bad bounds and unknown fields', async () => {
    const bad = await h.bapi('POST', '/v1/jwt-templates', { name: 'bad', claims: { a: '{{usr.id}}' } })
    expect(bad.status).toBe(422)
    expect((await body(bad)).errors[0]).toMatchObject({ meta: { param_name: 'claims' } })
    for (const extra of [
      { lifetime: 10 },
      { allowed_clock_skew: 1000 },
      { name: 'has space' },
      { nope: 1 },
    ]) {
      const res = await h.bapi('POST', '/v1/jwt-templates', { name: 'bad2', claims: {}, ...extra })
      expect(res.status).toBe(422)
    }
  })

  it('404s unknown ids', async () => {
    for (const id of ['jtmp_01J0000000000000000000000Z', 'nope']) {
      expect((await h.bapi('GET', `/v1/jwt-templates/${id}`)).status).toBe(404)
      expect((await h.bapi('PATCH', `/v1/jwt-templates/${id}`, { lifetime: 60 })).status).toBe(404)
      expect((await h.bapi('DELETE', `/v1/jwt-templates/${id}`)).status).toBe(404)
    }
  })
})

describe('minting', () => {
  it('signs with the env key (verifiable through JWKS) with shortcodes and default claims', async () => {
    await createTemplate({
      name: 'env-key',
      lifetime: 120,
      allowed_clock_skew: 10,
      claims: {
        aud: 'convex',
        name: '{{user.first_name}} {{user.last_name}}',
        email: '{{user.primary_email_address}}',
        plan: '{{user.public_metadata.profile.plan}}',
        seats: '{{user.public_metadata.seats}}',
        meta: '{{user.public_metadata}}',
        username: "{{user.username || 'anon'}}",
        sid: '{{session.id}}',
        org: '{{org.id}}',
        private: '{{user.private_metadata}}',
      },
    })
    const res = await mint('env-key')
    expect(res.status).toBe(200)
    const token = await body(res)
    expect(token).toEqual({ object: 'token', jwt: expect.any(String) })
    const header = decodeProtectedHeader(token.jwt)
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: expect.stringMatching(/^key_/) })
    const now = Math.floor(h.clock.now() / 1000)
    const { payload } = await jwtVerify(token.jwt, await jwks(), {
      currentDate: new Date(h.clock.now()),
      issuer: `https://${h.env.host}`,
      audience: 'convex',
    })
    expect(payload).toEqual({
      aud: 'convex',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      plan: 'pro',
      seats: 3,
      meta: { profile: { plan: 'pro' }, seats: 3 },
      username: 'anon',
      sid: null,
      org: null,
      private: null,
      iss: `https://${h.env.host}`,
      sub: user.id,
      iat: now,
      nbf: now - 10,
      exp: now + 120,
      jti: expect.stringMatching(/^[0-9a-f]{20}$/),
    })
    expect(token.jwt).not.toContain('do-not-leak')
    expect(JSON.stringify(payload)).not.toContain('do-not-leak')
  })

  it('uses http:// as the issuer on localhost hosts and fills session, org and azp when given', async () => {
    const h2 = await createHarness({ envs: [{ host: `t${process.pid}.localhost` }] })
    try {
      const u = await body(
        await h2.bapi('POST', '/v1/users', {
          email_address: ['x@example.com'],
          password: 'correct horse battery',
        }),
      )
      await h2.bapi('POST', '/v1/jwt-templates', {
        name: 'fapi',
        claims: {
          sid: '{{session.id}}',
          act: '{{session.actor}}',
          org: '{{org.slug}}',
          role: '{{org_membership.role}}',
        },
      })
      const token = await h2.ctx((ctx) =>
        mintTemplateToken(ctx, 'fapi', {
          userId: u.id,
          session: { id: 'sess_1', createdAt: h2.clock.now(), actor: { sub: 'user_admin' } },
          origin: 'https://app.example.com',
          org: { id: 'org_1', name: 'Acme', slug: 'acme', role: 'org:admin' },
        }),
      )
      const jwksBody = await body(await h2.bapi('GET', '/v1/jwks'))
      const { payload } = await jwtVerify(token.jwt, createLocalJWKSet(jwksBody as never), {
        currentDate: new Date(h2.clock.now()),
      })
      expect(payload).toMatchObject({
        iss: `http://t${process.pid}.localhost:3000`,
        azp: 'https://app.example.com',
        sid: 'sess_1',
        act: { sub: 'user_admin' },
        org: 'acme',
        role: 'org:admin',
      })
    } finally {
      h2.close()
    }
  })

  it('signs with a custom HMAC secret', async () => {
    const secret = 'x'.repeat(48)
    const t = await createTemplate({
      name: 'hs',
      claims: { a: 1 },
      signing_algorithm: 'HS384',
      custom_signing_key: secret,
    })
    expect(t).toMatchObject({ has_custom_signing_key: true, signing_algorithm: 'HS384' })
    expect(JSON.stringify(t)).not.toContain(secret)
    const stored = h.ctx((ctx) =>
      ctx.client.query('SELECT custom_signing_key FROM jwt_templates WHERE id = ?').get(t.id),
    ) as { custom_signing_key: string }
    expect(stored.custom_signing_key).toStartWith('v1.')
    expect(stored.custom_signing_key).not.toContain(secret)

    const { jwt } = await body(await mint('hs'))
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'HS384', typ: 'JWT' })
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(secret), {
      currentDate: new Date(h.clock.now()),
    })
    expect(payload).toMatchObject({ a: 1, sub: user.id })
  })

  for (const [alg, key] of [
    ['RS512', () => pem('rsa')],
    ['PS256', () => pem('rsa')],
    ['ES256', () => pem('ec', { namedCurve: 'P-256' })],
    ['ES384', () => pem('ec', { namedCurve: 'P-384' })],
    ['EdDSA', () => pem('ed25519')],
  ] as const) {
    it(`signs with a custom ${alg} private key`, async () => {
      const material = key()
      await createTemplate({ name: `custom-${alg}`, signing_algorithm: alg, custom_signing_key: material })
      const { jwt } = await body(await mint(`custom-${alg}`))
      expect(decodeProtectedHeader(jwt).alg).toBe(alg)
      const { payload } = await jwtVerify(jwt, createPublicKey(material), {
        currentDate: new Date(h.clock.now()),
      })
      expect(payload.sub).toBe(user.id)
    })
  }

  it('validates key material against the algorithm at create and update', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['HS256', 'too short', 'custom_signing_key'],
      ['HS512', 'x'.repeat(40), 'custom_signing_key'],
      ['RS256', pem('ec', { namedCurve: 'P-256' }), 'custom_signing_key'],
      ['RS256', pem('rsa', { modulusLength: 1024 }), 'custom_signing_key'],
      ['ES256', pem('ec', { namedCurve: 'P-384' }), 'custom_signing_key'],
      ['EdDSA', pem('rsa'), 'custom_signing_key'],
      ['RS256', 'not a pem', 'custom_signing_key'],
      [
        'RS256',
        createPublicKey(pem('rsa')).export({ format: 'pem', type: 'spki' }) as string,
        'custom_signing_key',
      ],
      ['XX256', 'x'.repeat(64), 'signing_algorithm'],
    ]
    for (const [alg, material, param] of cases) {
      const res = await h.bapi('POST', '/v1/jwt-templates', {
        name: 'badkey',
        claims: {},
        signing_algorithm: alg,
        custom_signing_key: material,
      })
      expect(res.status).toBe(422)
      expect((await body(res)).errors[0].meta.param_name).toBe(param)
    }
    const missingAlg = await h.bapi('POST', '/v1/jwt-templates', {
      name: 'badkey',
      claims: {},
      custom_signing_key: 'x'.repeat(64),
    })
    expect((await body(missingAlg)).errors[0]).toMatchObject({
      code: 'form_param_missing',
      meta: { param_name: 'signing_algorithm' },
    })
    const algWithoutKey = await h.bapi('POST', '/v1/jwt-templates', {
      name: 'badkey',
      claims: {},
      signing_algorithm: 'RS256',
    })
    expect((await body(algWithoutKey)).errors[0].meta.param_name).toBe('signing_algorithm')

    // Changing only the algorithm re-checks the stored key.
    const t = await createTemplate({ signing_algorithm: 'HS256', custom_signing_key: 'y'.repeat(32) })
    const upd = await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { signing_algorithm: 'HS512' })
    expect(upd.status).toBe(422)
    expect((await body(upd)).errors[0].meta.param_name).toBe('custom_signing_key')
  })

  it('switches from a custom key back to the env key when custom_signing_key is null', async () => {
    const t = await createTemplate({
      name: 'switch',
      signing_algorithm: 'HS256',
      custom_signing_key: 'z'.repeat(32),
    })
    expect(decodeProtectedHeader((await body(await mint('switch'))).jwt).alg).toBe('HS256')
    const cleared = await body(
      await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { custom_signing_key: null }),
    )
    expect(cleared).toMatchObject({ has_custom_signing_key: false, signing_algorithm: null })
    const { jwt } = await body(await mint('switch'))
    await jwtVerify(jwt, await jwks(), { currentDate: new Date(h.clock.now()) })

    // And to a new custom key again, which takes effect at once.
    const ec = pem('ec', { namedCurve: 'P-256' })
    await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { signing_algorithm: 'ES256', custom_signing_key: ec })
    const again = (await body(await mint('switch'))).jwt
    await jwtVerify(again, createPublicKey(ec), { currentDate: new Date(h.clock.now()) })

    // A rename is seen by the next mint too.
    await h.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { name: 'switched' })
    expect((await mint('switch')).status).toBe(404)
    expect((await mint('switched')).status).toBe(200)
  })

  it('404s an unknown template or user', async () => {
    const unknown = await mint('no-such-template')
    expect(unknown.status).toBe(404)
    expect((await body(unknown)).errors[0]).toMatchObject({
      code: 'resource_not_found',
      long_message: expect.stringContaining('JWT template not found'),
    })
    await createTemplate({ name: 'for-missing-user' })
    const noUser = await mint('for-missing-user', 'user_01J0000000000000000000000Z')
    expect(noUser.status).toBe(404)
  })
})
