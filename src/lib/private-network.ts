import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Guards outbound requests made on a customer's behalf (webhooks) from reaching our own
 * network: loopback, private, link-local (cloud metadata), shared and unspecified ranges.
 */
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')
// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are checked against the IPv4 rules by BlockList.

/** The bare address of an IP literal host (`[::1]` → `::1`), or null for a name. */
export function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) ? bare : null
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

const isLocalName = (host: string) => {
  const h = host.toLowerCase().replace(/\.$/, '')
  return h === 'localhost' || h.endsWith('.localhost')
}

/**
 * Why a host is refused without resolving it (a private IP literal or a localhost name), or
 * null when only DNS can tell.
 */
export function literalRefusal(hostname: string): string | null {
  const ip = ipLiteral(hostname)
  if (ip !== null) return isPrivateAddress(ip) ? `${ip} is a private or loopback address` : null
  return isLocalName(hostname) ? `${hostname} is a loopback host` : null
}

export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError'
}

/**
 * Resolves a host and refuses it when any of its addresses is private: checking only the first
 * would let a name with one public and one private record through.
 */
export async function assertPublicHost(
  hostname: string,
  resolve: (host: string) => Promise<Array<{ address: string }>> = (host) =>
    lookup(host, { all: true, verbatim: true }),
): Promise<void> {
  const refusal = literalRefusal(hostname)
  if (refusal) throw new PrivateAddressError(`refused: ${refusal}`)
  if (ipLiteral(hostname)) return
  const addresses = await resolve(hostname)
  if (!addresses.length) throw new PrivateAddressError(`refused: ${hostname} did not resolve`)
  const bad = addresses.find((a) => isPrivateAddress(a.address))
  if (bad) throw new PrivateAddressError(`refused: ${hostname} resolves to ${bad.address}, a private address`)
}
