import { describe, expect, it } from 'bun:test'
import { newDataKey, seal, unseal } from '../../src/crypto/seal'

describe('seal', () => {
  const key = newDataKey()
  it('round-trips and never shows the plaintext', () => {
    const sealed = seal(key, 'JBSWY3DPEHPK3PXP', 'totp:user_1')
    expect(sealed).toStartWith('v1.')
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP')
    expect(unseal(key, sealed, 'totp:user_1')).toBe('JBSWY3DPEHPK3PXP')
    expect(seal(key, 'same', 'a')).not.toBe(seal(key, 'same', 'a'))
  })

  it('refuses another key, other associated data and tampering', () => {
    const sealed = seal(key, 'secret', 'row:1')
    expect(() => unseal(newDataKey(), sealed, 'row:1')).toThrow()
    expect(() => unseal(key, sealed, 'row:2')).toThrow()
    const parts = sealed.split('.')
    parts[2] = Buffer.from('tampered').toString('base64url')
    expect(() => unseal(key, parts.join('.'), 'row:1')).toThrow()
    expect(() => unseal(key, 'garbage', 'row:1')).toThrow()
  })
})
