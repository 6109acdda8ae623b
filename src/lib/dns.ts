import { promises as dns } from 'node:dns'

/** The one DNS question we ask: the TXT records at a name (domain verification). */
export interface TxtResolver {
  /** Each record's strings, joined (a long TXT value is split into 255-byte strings). */
  resolveTxt(name: string): Promise<string[]>
}

/** Answers that mean "no such record", as opposed to a resolver that could not answer. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME'])

/**
 * A resolver over the system's DNS servers, or over one server (`host:port`, `[v6]:port` or a
 * bare host) given by AUTHN_DNS_SERVER; tests point it at a server on loopback. A missing
 * record resolves to no records; a resolver failure (timeout, refused) rejects.
 *
 * Each lookup gets a fresh channel: a channel caches answers (negative ones too) for their TTL,
 * and someone who has just published their record should not wait that out. Lookups are rare
 * (domain verification polls).
 */
export function createTxtResolver(server?: string): TxtResolver {
  return {
    async resolveTxt(name) {
      const resolver = new dns.Resolver({ timeout: 2000, tries: 2 })
      if (server) resolver.setServers([server])
      try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''))
      } catch (err) {
        if (ABSENT.has((err as { code?: string }).code ?? '')) return []
        throw err
      }
    },
  }
}
