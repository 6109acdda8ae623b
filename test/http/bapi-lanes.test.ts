import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { userResourceJson } from '../../src/domain/users/service'
import { createBapi } from '../../src/http/bapi'
import { userLane } from '../../src/http/bapi/lanes'
import { setRequestState } from '../../src/http/shared/request-state'
import { CROSS_PROCESS_STALENESS_MS } from '../../src/tenancy/data-version'
import { envDbFile } from '../../src/tenancy/paths'
import { boundState } from '../helpers/bound-state'
import { body, createHarness, type Harness } from '../helpers/harness'

const open: Harness[] = []
afterAll(() => {
  for (const h of open) h.close()
})

/** A fresh harness with one user made through the Backend API, with these emails and `fields`. */
async function withUser(emails: string[], fields: Record<string, unknown> = {}) {
  const h = await createHarness()
  open.push(h)
  const user = await body(
    await h.bapi('POST', '/v1/users', { email_address: emails, skip_password_requirement: true, ...fields }),
  )
  return { h, user }
}

describe('the user lane (GET /v1/users/{id})', () => {
  it('answers what the route answers, byte for byte', async () => {
    const { h, user: created } = await withUser(['lane@example.com', 'other@example.com'], {
      first_name: 'Ada',
      public_metadata: { plan: 'pro', nested: { a: [1, 2] } },
      private_metadata: { note: 'x' },
    })
    expect(created.id).toStartWith('user_')
    const path = `/v1/users/${created.id}`
    const viaDispatcher = await h.bapi('GET', path)
    expect(viaDispatcher.status).toBe(200)
    expect(viaDispatcher.headers.get('content-type')).toBe('application/json')
    const laneText = await viaDispatcher.text()

    // The route itself, through the Backend API's own app.
    const bapi = createBapi()
    const routeText = await h.ctx(async (ctx) => {
      const request = new Request(`http://127.0.0.1${path}`)
      setRequestState(request, boundState(ctx, 'GET', path))
      const res = await bapi.handle(request)
      expect(res.status).toBe(200)
      return res.text()
    })
    expect(JSON.parse(laneText)).toEqual(JSON.parse(routeText))
    expect(laneText).toBe(routeText)
  })

  it("follows every write to the env: this process's at once, another process's within the staleness bound", async () => {
    const { h, user: u } = await withUser(['w@example.com'])
    const get = async () => body(await h.bapi('GET', `/v1/users/${u.id}`))
    expect((await get()).first_name).toBeNull()
    await h.bapi('PATCH', `/v1/users/${u.id}`, { first_name: 'Grace' })
    expect((await get()).first_name).toBe('Grace')

    // The CLI (another process) renames her straight in the env's file.
    const file = h.ctx((ctx) => envDbFile(ctx.dir))
    const cli = new Database(file)
    cli.run("UPDATE users SET first_name = 'Ada' WHERE id = ?", [u.id])
    cli.close()
    h.clock.advance(CROSS_PROCESS_STALENESS_MS)
    expect((await get()).first_name).toBe('Ada')

    // A locked user's resource counts the lockout down: it is answered fresh each time.
    await h.bapi('POST', `/v1/users/${u.id}/lock`)
    const first = (await get()).lockout_expires_in_seconds as number
    h.clock.advance(60_000)
    expect((await get()).lockout_expires_in_seconds).toBe(first - 60)
    expect(h.ctx((ctx) => userResourceJson(ctx, u.id))).toBeNull()
  })

  it('leaves a missing user, a malformed id, sub-resources and queries to the route', async () => {
    const { h, user: created } = await withUser(['q@example.com'])
    const lane = (path: string, query = '') =>
      h.ctx((ctx) =>
        userLane.answer(new Request(`http://127.0.0.1${path}${query}`), path, boundState(ctx, 'GET', path)),
      )
    expect(lane(`/v1/users/${created.id}`)).toBeInstanceOf(Response)
    expect(lane('/v1/users/user_2x00000000000000000000000000')).toBeNull()
    expect(lane('/v1/users/not-an-id')).toBeNull()
    expect(lane(`/v1/users/${created.id}/organization_memberships`)).toBeNull()
    expect(lane(`/v1/users/${created.id}`, '?x=1')).toBeNull()
    // The route's own answers for those stay as they were.
    expect((await h.bapi('GET', '/v1/users/user_2x00000000000000000000000000')).status).toBe(404)
  })
})
