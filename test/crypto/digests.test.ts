import { describe, expect, it } from 'bun:test'
import { boundsProblem, digestParams, importedDigestProblem } from '../../src/crypto/digests'

const SALT_HASH = 'c2FsdHNhbHQ$aGFzaGhhc2hoYXNo'
const argon = (params: string, alg = 'argon2id') => `$${alg}$v=19$${params}$${SALT_HASH}`
const bcrypt = (cost: string) => `$2b$${cost}$abcdefghijklmnopqrstuuVvB0sN2yQ1lCkC0HgYd7JcG8xN8iHKe`

describe('digest parameters', () => {
  it('reads bcrypt cost and argon2 m, t, p from the digest', () => {
    expect(digestParams(bcrypt('12'))).toEqual({ algorithm: 'bcrypt', cost: 12 })
    expect(digestParams(argon('m=65536,t=2,p=1', 'argon2i'))).toEqual({
      algorithm: 'argon2i',
      version: 19,
      m: 65536,
      t: 2,
      p: 1,
    })
    expect(digestParams('not a digest')).toBeNull()
    expect(digestParams('$argon2id$m=65536,t=2,p=1$c2FsdA$aGFzaA')).toBeNull() // no version: not read
    expect(digestParams('$argon2id$v=7$m=65536,t=2,p=1$c2FsdA$aGFzaA')).toBeNull()
  })

  it('accepts costs up to the bounds and names the bound a digest breaks', () => {
    for (const ok of [bcrypt('04'), bcrypt('10'), bcrypt('14')])
      expect(importedDigestProblem('bcrypt', ok)).toBeNull()
    for (const ok of ['m=65536,t=2,p=1', 'm=262144,t=4,p=1', 'm=65536,t=10,p=4', 'm=19456,t=2,p=16'])
      expect(importedDigestProblem('argon2id', argon(ok))).toBeNull()

    expect(importedDigestProblem('bcrypt', bcrypt('31'))).toBe(
      'password_digest has bcrypt cost 31; this server accepts bcrypt costs 4 to 14.',
    )
    expect(importedDigestProblem('bcrypt', bcrypt('15'))).toContain('cost 15')
    expect(importedDigestProblem('bcrypt', bcrypt('03'))).toContain('cost 3')
    expect(importedDigestProblem('argon2id', argon('m=1048576,t=2,p=1'))).toBe(
      'password_digest has argon2id memory m=1048576 KiB; this server accepts at least 8 KiB per lane (8 × p) and at most 262144 KiB (256 MiB).',
    )
    expect(importedDigestProblem('argon2id', argon('m=65536,t=11,p=1'))).toContain('t=11')
    expect(importedDigestProblem('argon2id', argon('m=65536,t=0,p=1'))).toContain('t=0')
    expect(importedDigestProblem('argon2id', argon('m=65536,t=2,p=17'))).toContain('p=17')
    expect(importedDigestProblem('argon2id', argon('m=64,t=2,p=16'))).toContain('m=64 KiB')
    // Each within its own bound, but 256 MiB × 10 passes is several seconds of one slot.
    expect(importedDigestProblem('argon2id', argon('m=262144,t=10,p=1'))).toContain('m × t')
  })

  it('still refuses a digest of another hasher or shape', () => {
    expect(importedDigestProblem('argon2i', argon('m=65536,t=2,p=1'))).toBe(
      'password_digest is not a valid argon2i digest.',
    )
    expect(importedDigestProblem('bcrypt', '$2b$10$short')).toBe(
      'password_digest is not a valid bcrypt digest.',
    )
    expect(boundsProblem({ algorithm: 'bcrypt', cost: 14 })).toBeNull()
  })
})
