import { createSocket } from 'node:dgram'

/**
 * A small authoritative DNS server on loopback (UDP, RFC 1035 wire format) that answers TXT
 * questions from `records`: what a resolver would find once a customer publishes a record.
 * Names it does not know get NXDOMAIN; a known name asked for another type gets no answers.
 */
export interface TestDns {
  /** `host:port`, for AUTHN_DNS_SERVER. */
  server: string
  records: Map<string, string[]>
  /** Every question asked, as `name TYPE`. */
  queries: string[]
  close(): Promise<void>
}

const TXT = 16
const TYPE_NAMES: Record<number, string> = { 1: 'A', 16: 'TXT', 28: 'AAAA' }

function txtRdata(value: string): Buffer {
  // A TXT record is one or more <length><bytes> strings of up to 255 bytes each.
  const bytes = Buffer.from(value)
  const parts: Buffer[] = []
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255)
    parts.push(Buffer.from([chunk.length]), chunk)
  }
  return Buffer.concat(parts)
}

export async function startDnsServer(): Promise<TestDns> {
  const records = new Map<string, string[]>()
  const queries: string[] = []
  const socket = createSocket('udp4')
  socket.on('message', (msg, peer) => {
    if (msg.length < 12) return
    let offset = 12
    const labels: string[] = []
    while (offset < msg.length && msg[offset] !== 0) {
      const len = msg[offset]!
      labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('latin1'))
      offset += len + 1
    }
    offset += 1
    const qtype = msg.readUInt16BE(offset)
    offset += 4
    const name = labels.join('.').toLowerCase()
    queries.push(`${name} ${TYPE_NAMES[qtype] ?? qtype}`)
    const values = records.get(name)
    const answers = qtype === TXT && values ? values : []
    const header = Buffer.alloc(12)
    header.writeUInt16BE(msg.readUInt16BE(0), 0) // id
    // QR, AA, RD copied, RA; rcode 3 (NXDOMAIN) for unknown names.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (values ? 0 : 3), 2)
    header.writeUInt16BE(1, 4)
    header.writeUInt16BE(answers.length, 6)
    const rrs = answers.map((value) => {
      const rdata = txtRdata(value)
      const rr = Buffer.alloc(12)
      rr.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's
      rr.writeUInt16BE(TXT, 2)
      rr.writeUInt16BE(1, 4) // IN
      rr.writeUInt32BE(60, 6)
      rr.writeUInt16BE(rdata.length, 10)
      return Buffer.concat([rr, rdata])
    })
    socket.send(Buffer.concat([header, msg.subarray(12, offset), ...rrs]), peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    server: `127.0.0.1:${socket.address().port}`,
    records,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
