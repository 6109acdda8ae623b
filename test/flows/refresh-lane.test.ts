import { afterAll, describe, expect, it } from 'bun:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { refreshSessionToken } from '../../src/flows/client/service'
import { refreshLane } from '../../src/http/fapi/lanes'
import { jwksLane } from '../../src/http/wellknown/lanes'
import { boundState } from '../helpers/bound-state'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { bapiJson, emailOf, ok, signedIn, signIn } from './support'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})
async function fresh() {
  const h = await createHarness()
  open.push(h)
  return h
}

const ORIGIN = 'http://localhost:5173'

describe('the refresh lane (POST /v1/client/sessions/{sid}/tokens without a body)', () => {
  it('mints the token the route mints: same header and claims but the token id', async () => {
    const h = await fresh()
    const { b, sid } = await signedIn(h)
    const cookie = b.cookie!
    const quick = await h.ctx((ctx) => refreshSessionToken(ctx, cookie, sid, ORIGIN))
    expect(quick).toBeString()
    // A body sends the refresh the long way, through the route and mintToken.
    const routed = ok(await b.json('POST', `/v1/client/sessions/${sid}/tokens`, {}, { origin: ORIGIN })).jwt
    const { jti: a, ...viaLane } = decodeJwt(quick!)
    const { jti: z, ...viaRoute } = decodeJwt(routed)
    expect(a).not.toBe(z)
    expect(viaLane).toEqual(viaRoute)
    expect(viaLane).toMatchObject({ sid, azp: ORIGIN, v: 2 })
    expect(decodeProtectedHeader(quick!)).toEqual(decodeProtectedHeader(routed))
  })

  it('answers through the dispatcher with the route’s body and CORS headers', async () => {
    const h = await fresh()
    const { sid } = await signedIn(h)
    const b = browser(h)
    await b.json('POST', '/v1/client')
    const res = await h.fapi('POST', `/v1/client/sessions/${sid}/tokens`, undefined, {
      headers: { cookie: `__authn_client=${b.cookie}`, origin: ORIGIN },
    })
    // Another device's client: the lane passes, the route answers 404 as before.
    expect(res.status).toBe(404)
    const mine = await signedIn(h)
    const good = await h.fapi('POST', `/v1/client/sessions/${mine.sid}/tokens`, undefined, {
      headers: { cookie: `__authn_client=${mine.b.cookie}`, origin: ORIGIN },
    })
    expect(good.status).toBe(200)
    expect(good.headers.get('content-type')).toBe('application/json')
    expect(good.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(good.headers.get('x-trace-id')).toBeTruthy()
    const body = (await good.json()) as { object: string; jwt: string }
    expect(Object.keys(body)).toEqual(['object', 'jwt'])
    expect(decodeJwt(body.jwt).sid).toBe(mine.sid)
  })

  it('leaves everything off the usual path to the route', async () => {
    const h = await fresh()
    const one = await signedIn(h)
    const two = await signedIn(h)
    const lane = (cookie: string | null, sid: string, path = `/v1/client/sessions/${sid}/tokens`) =>
      h.ctx((ctx) =>
        refreshLane.answer(
          new Request(`http://${h.env.host}${path}`, {
            method: 'POST',
            headers: cookie ? { cookie: `__authn_client=${cookie}` } : {},
          }),
          path,
          boundState(ctx, 'POST', path),
        ),
      )
    expect(await lane(one.b.cookie, one.sid)).toBeInstanceOf(Response)
    expect(lane(null, one.sid)).toBeNull()
    expect(lane('not-a-token', one.sid)).toBeNull()
    // another client's session, and a path that is not the refresh
    expect(lane(one.b.cookie, two.sid)).toBeNull()
    expect(lane(one.b.cookie, one.sid, `/v1/client/sessions/${one.sid}/tokens/jwt`)).toBeNull()
    expect(lane(one.b.cookie, one.sid, `/v1/client/sessions/${one.sid}/end`)).toBeNull()
    // a banned user, an ended session
    ok(await bapiJson(h, 'POST', `/v1/users/${two.user.id}/ban`))
    expect(lane(two.b.cookie, two.sid)).toBeNull()
    ok(await one.b.json('POST', `/v1/client/sessions/${one.sid}/end`))
    expect(lane(one.b.cookie, one.sid)).toBeNull()
  })

  it('refuses a client token once the client has rotated it', async () => {
    const h = await fresh()
    const first = await signedIn(h)
    const { b, user } = first
    ok(await b.json('POST', `/v1/client/sessions/${first.sid}/end`))
    const before = b.cookie!
    // A sign-in rotates the device's client token.
    const sid = await signIn(b, emailOf(user))
    expect(b.cookie).not.toBe(before)
    expect(h.ctx((ctx) => refreshSessionToken(ctx, before, sid, null))).toBeNull()
    expect(await h.ctx((ctx) => refreshSessionToken(ctx, b.cookie!, sid, null))).toBeString()
  })
})

describe('the JWKS lane', () => {
  it('answers only its own path, with the document the route serves', async () => {
    const h = await fresh()
    const viaDispatcher = await h.request(`http://${h.env.host}/.well-known/jwks.json`)
    expect(viaDispatcher.status).toBe(200)
    const etag = viaDispatcher.headers.get('etag')
    const doc = await viaDispatcher.json()
    const direct = await h.ctx((ctx) =>
      jwksLane.answer(
        new Request(`http://${h.env.host}/.well-known/jwks.json`),
        '/.well-known/jwks.json',
        boundState(ctx, 'GET', '/.well-known/jwks.json'),
      ),
    )
    expect(direct!.headers.get('etag')).toBe(etag)
    expect(await direct!.json()).toEqual(doc)
    expect(
      h.ctx((ctx) =>
        jwksLane.answer(
          new Request(`http://${h.env.host}/.well-known/other`),
          '/.well-known/other',
          boundState(ctx, 'GET', '/.well-known/other'),
        ),
      ),
    ).toBeNull()
  })
})
