import { BlockList, isIP } from 'node:net'

/** Who is calling, as far as the connection and the proxies we trust can tell. */
export interface ClientAddress {
  /** The visitor's address (rate limits, sessions' ip_address, the access log). */
  ip: string | null
  /** The scheme the visitor used, when a trusted proxy says so (X-Forwarded-Proto). */
  proto: 'http' | 'https' | null
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i
const V4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/
const BRACKETED_V6 = /^\[([^\]]+)\](?::\d{1,5})?$/

/**
 * One address in canonical form, or null when it is none: a port (`1.2.3.4:5678`,
 * `[2001:db8::1]:443`) and an IPv6 zone are dropped, an IPv4-mapped IPv6 address becomes IPv4.
 */
export function normalizeIp(raw: string | null | undefined): string | null {
  if (!raw) return null
  let a = raw.trim()
  a = BRACKETED_V6.exec(a)?.[1] ?? V4_WITH_PORT.exec(a)?.[1] ?? a
  const zone = a.indexOf('%')
  if (zone !== -1) a = a.slice(0, zone)
  a = MAPPED_V4.exec(a)?.[1] ?? a
  const version = isIP(a)
  if (version === 0) return null
  return version === 6 ? a.toLowerCase() : a
}

/**
 * The client address behind reverse proxies. Only a peer inside `trustedProxies` (IPs and CIDR
 * ranges, already checked by loadConfig) is believed: then X-Forwarded-For is walked from the
 * right, past the hops that are trusted proxies too, to the first one that is not (entries to
 * its left are the visitor's own claims), and X-Forwarded-Proto gives the visitor's scheme.
 * Anyone else's X-Forwarded-* headers are ignored.
 */
export function createClientAddressing(trustedProxies: readonly string[]) {
  const trusted = new BlockList()
  for (const entry of trustedProxies) {
    const [address = '', prefix] = entry.split('/')
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) trusted.addAddress(address, type)
    else trusted.addSubnet(address, Number(prefix), type)
  }
  const isTrusted = (ip: string) =>
    trustedProxies.length > 0 && trusted.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')
  // Every request names its socket's peer, and peers repeat (keep-alive, a proxy, a NAT): the
  // canonical form of the last few thousand is remembered rather than parsed each time.
  const peers = new Map<string, string | null>()
  const normalizePeer = (peer: string | null) => {
    if (peer === null) return null
    let ip = peers.get(peer)
    if (ip === undefined) {
      ip = normalizeIp(peer)
      if (peers.size >= 4096) peers.clear()
      peers.set(peer, ip)
    }
    return ip
  }

  return {
    resolve(peer: string | null, headers: Headers): ClientAddress {
      const socket = normalizePeer(peer)
      if (!socket || !isTrusted(socket)) return { ip: socket ?? peer, proto: null }
      let ip = socket
      const hops = headers.get('x-forwarded-for')?.split(',') ?? []
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normalizeIp(hops[i])
        // Garbage from here on: the last address a trusted hop vouched for is all we know.
        if (!hop) break
        ip = hop
        if (!isTrusted(hop)) break
      }
      const proto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
      return { ip, proto: proto === 'https' || proto === 'http' ? proto : null }
    },
  }
}

/**
 * The rate limiters' key for an address: an IPv6 visitor is its /64 (one subscriber's network,
 * where any host can take a fresh address), an IPv4 one its address.
 */
export function rateKeyOf(ip: string | null): string {
  if (!ip) return '-'
  if (isIP(ip) !== 6) return ip
  const [head = '', tail] = ip.split('::')
  const groups = (s: string | undefined) => (s ? s.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) takes two groups.
  const width = (parts: string[]) => parts.length + (parts.at(-1)?.includes('.') ? 1 : 0)
  const full = [...left, ...Array(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right]
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
