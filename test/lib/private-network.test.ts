import { describe, expect, it } from 'bun:test'
import {
  assertPublicHost,
  isPrivateAddress,
  literalRefusal,
  PrivateAddressError,
} from '../../src/lib/private-network'

describe('private network guard', () => {
  const privateOnes = [
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ]
  const publicOnes = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700::1111']
  for (const ip of privateOnes) it(`refuses ${ip}`, () => expect(isPrivateAddress(ip)).toBe(true))
  for (const ip of publicOnes) it(`allows ${ip}`, () => expect(isPrivateAddress(ip)).toBe(false))

  it('refuses literal hosts as URLs spell them, and leaves names to DNS', () => {
    expect(literalRefusal(new URL('http://[::1]:8080/').hostname)).toContain('::1')
    // WHATWG URL parsing turns these spellings into 127.0.0.1.
    expect(literalRefusal(new URL('http://0x7f.1/').hostname)).toContain('127.0.0.1')
    expect(literalRefusal(new URL('http://2130706433/').hostname)).toContain('127.0.0.1')
    expect(literalRefusal('localhost')).toContain('loopback')
    expect(literalRefusal('hooks.localhost')).toContain('loopback')
    expect(literalRefusal('8.8.8.8')).toBeNull()
    expect(literalRefusal('example.com')).toBeNull()
  })

  it('resolves names and refuses one that points at a private address', async () => {
    // /etc/hosts answers this without the network.
    await expect(assertPublicHost('localhost')).rejects.toBeInstanceOf(PrivateAddressError)
    await expect(assertPublicHost('8.8.8.8')).resolves.toBeUndefined()
    const answers =
      (...addresses: string[]) =>
      async () =>
        addresses.map((address) => ({ address }))
    await expect(assertPublicHost('hooks.example.com', answers('93.184.216.34'))).resolves.toBeUndefined()
    // Every address counts, not only the first.
    await expect(assertPublicHost('hooks.example.com', answers('93.184.216.34', '10.0.0.7'))).rejects.toThrow(
      /resolves to 10\.0\.0\.7/,
    )
    await expect(assertPublicHost('hooks.example.com', answers('::1'))).rejects.toThrow(PrivateAddressError)
    await expect(assertPublicHost('hooks.example.com', answers())).rejects.toThrow(/did not resolve/)
  })
})
