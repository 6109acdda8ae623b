import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config'
import { createClientAddressing, normalizeIp, rateKeyOf } from '../../src/http/shared/client-address'

const headers = (h: Record<string, string>) => new Headers(h)

describe('normalizeIp', () => {
  it('drops ports, brackets and zones, unmaps IPv4-mapped IPv6, and refuses what is not an address', () => {
    expect(normalizeIp('203.0.113.7')).toBe('203.0.113.7')
    expect(normalizeIp(' 203.0.113.7:5678 ')).toBe('203.0.113.7')
    expect(normalizeIp('[2001:DB8::1]:443')).toBe('2001:db8::1')
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1')
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('10.0.0.1')
    for (const bad of ['', 'unknown', '203.0.113', '1.2.3.4.5', 'example.com', null, undefined])
      expect(normalizeIp(bad)).toBeNull()
  })
})

describe('createClientAddressing', () => {
  const a = createClientAddressing(['10.0.0.0/8', '192.168.1.1', 'fd00::/8'])

  it('the peer is the client unless it is a trusted proxy', () => {
    const xff = headers({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' })
    expect(a.resolve('198.51.100.1', xff)).toEqual({ ip: '198.51.100.1', proto: null })
    expect(a.resolve('192.168.1.2', xff)).toEqual({ ip: '192.168.1.2', proto: null })
    expect(a.resolve('192.168.1.1', xff)).toEqual({ ip: '203.0.113.7', proto: 'https' })
    expect(a.resolve('::ffff:10.1.2.3', xff)).toEqual({ ip: '203.0.113.7', proto: 'https' })
    expect(a.resolve(null, xff)).toEqual({ ip: null, proto: null })
    // Trusting nobody (the default) ignores the headers altogether.
    expect(createClientAddressing([]).resolve('10.0.0.1', xff)).toEqual({ ip: '10.0.0.1', proto: null })
  })

  it('walks X-Forwarded-For from the right past trusted hops to the first untrusted one', () => {
    const via = (xff: string) => a.resolve('10.0.0.2', headers({ 'x-forwarded-for': xff })).ip
    expect(via('1.1.1.1, 203.0.113.7, 10.9.9.9, fd00::1')).toBe('203.0.113.7')
    expect(via('203.0.113.7:4711')).toBe('203.0.113.7')
    expect(via('[2001:db8::5]:80')).toBe('2001:db8::5')
    // Every hop trusted: the leftmost one is as far as we can see.
    expect(via('10.1.1.1, 10.2.2.2')).toBe('10.1.1.1')
    // Garbage stops the walk at the last address a trusted hop vouched for.
    expect(via('203.0.113.7, unknown')).toBe('10.0.0.2')
    expect(via('203.0.113.7, 10.3.3.3, , 10.4.4.4')).toBe('10.4.4.4')
    expect(via('')).toBe('10.0.0.2')
    expect(a.resolve('10.0.0.2', headers({})).ip).toBe('10.0.0.2')
  })

  it('reads X-Forwarded-Proto from a trusted proxy only, and only http or https', () => {
    const proto = (peer: string, value: string) =>
      a.resolve(peer, headers({ 'x-forwarded-proto': value })).proto
    expect(proto('10.0.0.2', 'HTTPS')).toBe('https')
    expect(proto('10.0.0.2', 'https, http')).toBe('https')
    expect(proto('10.0.0.2', 'http')).toBe('http')
    expect(proto('10.0.0.2', 'javascript')).toBeNull()
    expect(proto('203.0.113.7', 'https')).toBeNull()
  })
})

describe('rateKeyOf', () => {
  it('is the IPv4 address, or the IPv6 /64', () => {
    expect(rateKeyOf('203.0.113.7')).toBe('203.0.113.7')
    expect(rateKeyOf(null)).toBe('-')
    expect(rateKeyOf('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(rateKeyOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(rateKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(rateKeyOf('::1')).toBe('0:0:0:0::/64')
    expect(rateKeyOf('2001:db8:1:3::1')).not.toBe(rateKeyOf('2001:db8:1:2::1'))
    expect(rateKeyOf('64:ff9b::203.0.113.7')).toBe('64:ff9b:0:0::/64')
  })
})

describe('AUTHN_TRUSTED_PROXIES', () => {
  it('is a comma-separated list of addresses and CIDR ranges, empty by default', () => {
    expect(loadConfig({}).trustedProxies).toEqual([])
    expect(
      loadConfig({ AUTHN_TRUSTED_PROXIES: ' 10.0.0.0/8, 192.168.1.1 ,fd00::/8,, ::1 ' }).trustedProxies,
    ).toEqual(['10.0.0.0/8', '192.168.1.1', 'fd00::/8', '::1'])
  })

  it('refuses an entry that is not an address or a range, naming the variable', () => {
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      'proxy.internal',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
      '10.0.0.0/',
    ])
      expect(() => loadConfig({ AUTHN_TRUSTED_PROXIES: `127.0.0.1,${bad}` })).toThrow(
        `invalid configuration: AUTHN_TRUSTED_PROXIES ${bad}`,
      )
  })
})
