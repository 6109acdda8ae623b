import { describe, expect, test } from 'bun:test'
import { signClientToken, VERIFIED_TOKENS_KEPT, verifyClientToken } from '../../src/crypto/client-token'
import { newDataKey } from '../../src/crypto/seal'
import { sha256Hex } from '../../src/crypto/secrets'

const NOW = Date.UTC(2026, 11, 2)

describe('client tokens', () => {
  test('a token verifies to its client id, rotating secret and the hash the client row keeps', () => {
    const key = newDataKey()
    const token = signClientToken(key, { cid: 'client_1', rot: 'secret-1' }, NOW)
    const claims = verifyClientToken(key, token)
    expect(claims).toEqual({ cid: 'client_1', rot: 'secret-1', rotHash: sha256Hex('secret-1') })
    // The second look is the remembered answer, and nobody can change it for the next caller.
    expect(verifyClientToken(key, token)).toBe(claims)
    expect(Object.isFrozen(claims)).toBe(true)
  })

  test("a remembered token is still refused under another env's key", () => {
    const mine = newDataKey()
    const theirs = newDataKey()
    const token = signClientToken(mine, { cid: 'client_1', rot: 'r' }, NOW)
    expect(verifyClientToken(mine, token)).not.toBeNull()
    expect(verifyClientToken(theirs, token)).toBeNull()
    // ...and the refusal did not make the owner's key forget it.
    expect(verifyClientToken(mine, token)?.cid).toBe('client_1')
  })

  test('an altered token is refused, whatever was remembered before', () => {
    const key = newDataKey()
    const token = signClientToken(key, { cid: 'client_1', rot: 'r' }, NOW)
    verifyClientToken(key, token)
    const [h, p, mac] = token.split('.') as [string, string, string]
    const otherPayload = Buffer.from(JSON.stringify({ sub: 'client_2', rot: 'r', iat: 1 })).toString(
      'base64url',
    )
    expect(verifyClientToken(key, `${h}.${otherPayload}.${mac}`)).toBeNull()
    expect(verifyClientToken(key, `${h}.${p}.${mac.slice(0, -2)}AA`)).toBeNull()
    expect(verifyClientToken(key, 'not-a-token')).toBeNull()
  })

  test('past the bound, the oldest tokens are verified again rather than kept', () => {
    const key = newDataKey()
    const first = signClientToken(key, { cid: 'client_first', rot: 'r' }, NOW)
    const remembered = verifyClientToken(key, first)
    for (let i = 0; i < VERIFIED_TOKENS_KEPT; i++) {
      verifyClientToken(key, signClientToken(key, { cid: `client_${i}`, rot: 'r' }, NOW))
    }
    const again = verifyClientToken(key, first)
    expect(again).toEqual(remembered)
    expect(again).not.toBe(remembered)
  })
})
