import { describe, expect, it } from 'bun:test'
import { rewriteMethod } from '../../src/http/dispatch'
import { type RequestState, requestState } from '../../src/http/shared/request-state'
import { silentLogger } from '../../src/log'

const state = (): RequestState => ({
  traceId: 't',
  ip: null,
  startedAt: 0,
  method: 'POST',
  path: '/',
  log: silentLogger,
})

describe('FAPI _method rewrite', () => {
  it('turns POST ?_method=PATCH into a PATCH with the same form body and state', async () => {
    const req = new Request('https://clerk.example.test/v1/me?_method=PATCH&x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'first_name=Ada',
    })
    const s = state()
    const out = rewriteMethod(req, new URL(req.url), s)
    expect(out.method).toBe('PATCH')
    expect(out.url).toBe('https://clerk.example.test/v1/me?x=1')
    expect(await out.text()).toBe('first_name=Ada')
    expect(requestState(out)).toBe(s)
  })

  it('leaves other verbs and unknown overrides alone', () => {
    for (const [method, q] of [
      ['GET', 'PATCH'],
      ['POST', 'TRACE'],
      ['POST', ''],
    ] as const) {
      const req = new Request(`https://clerk.example.test/v1/x?_method=${q}`, { method })
      expect(rewriteMethod(req, new URL(req.url), state())).toBe(req)
    }
  })
})
