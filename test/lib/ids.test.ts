import { describe, expect, it } from 'bun:test'
import { idPattern, isId, newId, PREFIXES } from '../../src/lib/ids'

describe('ids', () => {
  it('has one prefix per kind, except email and phone identifiers which share idn_', () => {
    const byPrefix = new Map<string, string[]>()
    for (const [kind, prefix] of Object.entries(PREFIXES))
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), kind])
    const shared = [...byPrefix.entries()].filter(([, kinds]) => kinds.length > 1)
    expect(shared).toEqual([['idn', ['emailAddress', 'phoneNumber']]])
  })

  it('makes prefixed, strictly increasing ULIDs that match their pattern', () => {
    const ids = Array.from({ length: 1000 }, () => newId('user'))
    expect(new RegExp(idPattern('user')).test(ids[0]!)).toBe(true)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(isId('user', ids[0]!)).toBe(true)
    expect(isId('session', ids[0]!)).toBe(false)
    expect(isId('user', 'user_lowercase0000000000000000')).toBe(false)
  })
})
