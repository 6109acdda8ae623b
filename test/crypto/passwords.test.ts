import { describe, expect, it } from 'bun:test'
import { createPasswordHasher, isValidDigest } from '../../src/crypto/passwords'

describe('password hasher', () => {
  it('hashes with argon2id and verifies', async () => {
    const p = createPasswordHasher({ concurrency: 2, memoryCost: 4096, timeCost: 1 })
    const digest = await p.hash('pässwörd 123')
    expect(digest).toStartWith('$argon2id$')
    expect(await p.verify('pässwörd 123', digest)).toBe(true)
    expect(await p.verify('wrong', digest)).toBe(false)
    expect(await p.verify('x', 'not a digest')).toBe(false)
  })

  it('runs at most `concurrency` hashes at once and refuses beyond the queue', async () => {
    const p = createPasswordHasher({ concurrency: 2, maxQueue: 3, memoryCost: 4096, timeCost: 1 })
    const jobs = Array.from({ length: 5 }, (_, i) => p.hash(`pw${i}`))
    expect(p.pending).toBe(5)
    const overflow = p.hash('one too many')
    await expect(overflow).rejects.toMatchObject({ status: 429 })
    await Promise.all(jobs)
    expect(p.pending).toBe(0)
  })

  it('recognises imported digest formats', () => {
    expect(isValidDigest('bcrypt', '$2b$10$abcdefghijklmnopqrstuuVvB0sN2yQ1lCkC0HgYd7JcG8xN8iHKe')).toBe(true)
    expect(isValidDigest('bcrypt', '$2b$10$short')).toBe(false)
    expect(isValidDigest('argon2id', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(
      true,
    )
    expect(isValidDigest('argon2i', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toBe(
      false,
    )
  })
})
