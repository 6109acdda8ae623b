import { describe, expect, it } from 'bun:test'
import { createRateLimiter, type RateRule } from '../../src/http/shared/rate-limit'
import { AppError } from '../../src/lib/errors'

const rules: RateRule[] = [
  { method: 'POST', path: /^\/v1\/client\/sign-ins$/, bucket: 'sign_in.create', limit: 2, windowMs: 10_000 },
]

function limiter() {
  let now = 1_000_000
  const l = createRateLimiter(rules, () => now)
  return { l, advance: (ms: number) => (now += ms) }
}

const refused = (f: () => void) => {
  try {
    f()
  } catch (err) {
    return err as AppError
  }
  return null
}

describe('the per-IP rate limiter', () => {
  it('lets the limit through, then refuses with 429 and Retry-After until the window passes', () => {
    const { l, advance } = limiter()
    l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.1')
    l.check('env_a', 'POST', '/v1/client/sign-ins/', '10.0.0.1')
    advance(4_000)
    const err = refused(() => l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.1'))
    expect(err).toBeInstanceOf(AppError)
    expect(err!.status).toBe(429)
    expect(err!.headers).toEqual({ 'retry-after': '6' })
    advance(6_000)
    expect(refused(() => l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.1'))).toBeNull()
  })

  it('counts per env and per IP, and only the routes it names', () => {
    const { l } = limiter()
    for (let i = 0; i < 2; i++) l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.1')
    expect(refused(() => l.check('env_b', 'POST', '/v1/client/sign-ins', '10.0.0.1'))).toBeNull()
    expect(refused(() => l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.2'))).toBeNull()
    for (let i = 0; i < 5; i++) l.check('env_a', 'GET', '/v1/client/sign-ins', '10.0.0.1')
    expect(refused(() => l.check('env_a', 'POST', '/v1/client/sign-ins', '10.0.0.1'))?.status).toBe(429)
  })
})

describe('the Frontend API rules', () => {
  it('limit guesses of the current password like challenge answers', async () => {
    const { FAPI_RATE_RULES } = await import('../../src/http/shared/rate-limit')
    const l = createRateLimiter(FAPI_RATE_RULES, () => 0)
    for (let i = 0; i < 3; i++) l.check('env_a', 'POST', '/v1/me/change-password', '10.0.0.1')
    expect(refused(() => l.check('env_a', 'POST', '/v1/me/change-password', '10.0.0.1'))?.status).toBe(429)
  })
})
