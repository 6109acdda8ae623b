import { describe, expect, it } from 'bun:test'
import { limitBody } from '../../src/http/dispatch'
import { type RequestState, requestState } from '../../src/http/shared/request-state'
import { AppError } from '../../src/lib/errors'
import { silentLogger } from '../../src/log'

const state = (): RequestState => ({
  traceId: 't',
  ip: null,
  startedAt: 0,
  method: 'POST',
  path: '/',
  log: silentLogger,
})

const post = (body: string | ReadableStream, contentType: string, declared = true) => {
  const headers: Record<string, string> = { 'content-type': contentType }
  if (declared && typeof body === 'string') headers['content-length'] = String(body.length)
  return new Request('https://clerk.example.test/x', {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit)
}

const stream = (text: string) =>
  new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text))
      c.close()
    },
  })

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (err instanceof AppError) return `${err.status} ${err.items[0]!.code}`
    throw err
  }
  return 'accepted'
}

describe('body policy', () => {
  it("'must-parse' refuses broken JSON, declared or streamed; 'unchecked' hands it on", async () => {
    const checked = { json: 'must-parse' } as const
    expect(await refusal(limitBody(post('{"a":', 'application/json'), checked, 100, state()))).toBe(
      '400 malformed_request',
    )
    expect(
      await refusal(limitBody(post(stream('{"a":'), 'application/scim+json', false), checked, 100, state())),
    ).toBe('400 malformed_request')
    const s = state()
    const raw = await limitBody(
      post(stream('{"a":'), 'application/json', false),
      { json: 'unchecked' },
      100,
      s,
    )
    expect(await raw.text()).toBe('{"a":')
    expect(requestState(raw)).toBe(s)
  })

  it('caps at the policy limit when it has one, else at the server limit', async () => {
    const body = 'x=' + 'a'.repeat(60)
    const form = 'application/x-www-form-urlencoded'
    expect(
      await refusal(limitBody(post(body, form), { json: 'unchecked', maxBytes: 50 }, 100, state())),
    ).toBe('413 request_body_too_large')
    expect(
      await refusal(
        limitBody(post(stream(body), form, false), { json: 'unchecked', maxBytes: 50 }, 100, state()),
      ),
    ).toBe('413 request_body_too_large')
    expect(await refusal(limitBody(post(body, form), { json: 'unchecked' }, 100, state()))).toBe('accepted')
  })

  it('accepts only the listed media types, parameters ignored', async () => {
    const policy = { json: 'unchecked', accept: ['application/x-www-form-urlencoded'] } as const
    expect(
      await refusal(
        limitBody(post('a=1', 'application/x-www-form-urlencoded; charset=UTF-8'), policy, 100, state()),
      ),
    ).toBe('accepted')
    expect(await refusal(limitBody(post('{}', 'application/json'), policy, 100, state()))).toBe(
      '415 unsupported_content_type',
    )
    const bare = new Request('https://clerk.example.test/x', { method: 'POST' })
    expect(await refusal(limitBody(bare, policy, 100, state()))).toBe('accepted')
  })

  it("'must-parse' bounds a body's shape by the policy's limits, and keeps the parsed JSON for the app", async () => {
    const tight = { json: 'must-parse', maxDepth: 2, maxValues: 4, maxFields: 2 } as const
    const json = 'application/json'
    const form = 'application/x-www-form-urlencoded'
    expect(await refusal(limitBody(post('[[[]]]', json), tight, 100, state()))).toBe(
      '400 request_body_too_complex',
    )
    expect(await refusal(limitBody(post(stream('[[[]]]'), json, false), tight, 100, state()))).toBe(
      '400 request_body_too_complex',
    )
    expect(await refusal(limitBody(post('[1,2,3,4]', json), tight, 100, state()))).toBe(
      '400 request_body_too_complex',
    )
    expect(await refusal(limitBody(post('a=1&b=2&c=3', form), tight, 100, state()))).toBe(
      '400 request_body_too_complex',
    )
    expect(await refusal(limitBody(post('a=1&b=2', form), tight, 100, state()))).toBe('accepted')
    // Within bounds: the JSON is parsed once, here, and handed on with the request's state.
    const s = state()
    const passed = await limitBody(post('{"a":[1,2]}', json), tight, 100, s)
    expect(s.json).toEqual({ value: { a: [1, 2] } })
    expect(requestState(passed)).toBe(s)
    expect(await passed.text()).toBe('{"a":[1,2]}')
    // 'unchecked' leaves the shape alone.
    const raw = await limitBody(post('[[[[[]]]]]', json), { ...tight, json: 'unchecked' }, 100, state())
    expect(await raw.text()).toBe('[[[[[]]]]]')
  })
})
