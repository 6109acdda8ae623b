import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Server } from 'bun'
import { body, createHarness, type Harness } from '../helpers/harness'

// Bun.serve refuses a request whose header block is over its limit (16 KiB by default,
// `--max-http-header-size`) by itself: a bare `431` with `Connection: close` and no body, written
// before any JavaScript runs. Neither `fetch` nor the `error` handler is called, and Bun 1.4 has
// no option to shape that answer, so it cannot carry our error envelope (README, Configuration).
// This pins the behaviour on a real socket: when Bun lets us answer it, this test says so.

let h: Harness
let server: Server<undefined>
let handled = 0
let errors = 0
beforeAll(async () => {
  h = await createHarness()
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    development: false,
    fetch: (request, s) => {
      handled++
      return h.rt.server.handle(request, s.requestIP(request)?.address ?? null)
    },
    error: () => {
      errors++
      return new Response('from the error handler', { status: 500 })
    },
  })
})
afterAll(async () => {
  await server.stop(true)
  h.close()
})

const get = (headerBytes: number) =>
  fetch(`http://127.0.0.1:${server.port}/v1/nowhere`, {
    headers: { authorization: `Bearer ${h.env.secretKey}`, 'x-padding': 'a'.repeat(headerBytes) },
  })

describe('request headers over Bun’s limit', () => {
  it('under the limit, the request is ours and errors carry the envelope', async () => {
    const res = await get(15_000)
    expect(res.status).toBe(404)
    const b = await body(res)
    expect(b.errors[0].code).toBe('route_not_found')
    expect(typeof b.trace_id).toBe('string')
    expect(handled).toBe(1)
  })

  it('over it, Bun answers a bare 431 itself: our handlers never see the request', async () => {
    const before = handled
    const res = await get(20_000)
    expect(res.status).toBe(431)
    expect(res.headers.get('content-type')).toBeNull()
    expect(await res.text()).toBe('')
    expect(handled).toBe(before)
    expect(errors).toBe(0)
  })
})
