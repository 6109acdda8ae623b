// Signing ceiling for bench/token-refresh.sh: one Bun process, one JS thread, nothing but
// `signJws` (the server's own signer) with the env's active signing key and the exact header/claims of a
// token the server minted (iat/nbf/exp/jti refreshed per signature, as the server does).
//
// usage: bun bench/token-refresh-sign.ts KEYS_DIR TOKEN SECONDS [WARMUP_SECONDS] [IN_FLIGHT]
//   KEYS_DIR   <data>/<env_id>/keys (signing-<kid>.json files)
//   TOKEN      a session token minted by the server for that env (its header and payload are reused)
//   IN_FLIGHT  signatures awaited at once; 1 (default) is the strict sequential loop. WebCrypto
//              signs off the JS thread, so >1 shows what overlapping signatures can add.
// Prints one JSON line: { alg, kid, in_flight, seconds, signs, signs_per_sec, cpu_us_per_sign }.
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { type JwsAlgorithm, signJws } from '../src/crypto/jws'

const [keysDir, token, secondsArg, warmupArg = '2', inFlightArg = '1'] = process.argv.slice(2)
if (!keysDir || !token || !secondsArg) {
  console.error('usage: bun bench/token-refresh-sign.ts KEYS_DIR TOKEN SECONDS [WARMUP_SECONDS] [IN_FLIGHT]')
  process.exit(2)
}
const SECONDS = Number(secondsArg)
const WARMUP = Number(warmupArg)
const IN_FLIGHT = Number(inFlightArg)
if (!(SECONDS > 0) || !(WARMUP >= 0) || !Number.isInteger(IN_FLIGHT) || IN_FLIGHT < 1)
  throw new Error(`bad arguments: ${process.argv.slice(4).join(' ')}`)

interface KeyFile {
  kid: string
  alg: string
  created_at: number
  activate_at: number | null
  retire_at: number | null
  private_jwk: Record<string, unknown>
}

// The env's signing key, chosen as src/crypto/keys.ts `signingKeyAt` does: the latest
// activate_at that has passed (null = standby), not retired; ties go to the greater kid.
const now = Date.now()
let active: KeyFile | undefined
for (const f of readdirSync(keysDir)) {
  if (!f.startsWith('signing-') || !f.endsWith('.json')) continue
  const k = JSON.parse(readFileSync(join(keysDir, f), 'utf8')) as KeyFile
  if (k.activate_at === null || k.activate_at > now) continue
  if (k.retire_at !== null && k.retire_at <= now) continue
  const bestAt = active?.activate_at ?? -1
  if (!active || k.activate_at > bestAt || (k.activate_at === bestAt && k.kid > active.kid)) active = k
}
if (!active) throw new Error(`no active signing key in ${keysDir}`)

const header = decodeProtectedHeader(token) as { alg: string; kid?: string; typ?: string }
const claims = decodeJwt(token) as Record<string, unknown>
if (header.kid !== active.kid || header.alg !== active.alg)
  throw new Error(
    `token header ${JSON.stringify(header)} is not signed by active key ${active.kid} (${active.alg})`,
  )

const key: KeyObject = createPrivateKey({ key: active.private_jwk as never, format: 'jwk' })
const lifetime = Number(claims.exp) - Number(claims.iat)
const skew = Number(claims.iat) - Number(claims.nbf)

// The same signing code the server uses (src/crypto/jws.ts), so the ratio measures everything
// a refresh does besides signing.
async function sign(): Promise<string> {
  const iat = Math.floor(Date.now() / 1000)
  const { alg: _, ...rest } = header as Record<string, unknown>
  return signJws(active!.alg as JwsAlgorithm, key, rest, {
    ...claims,
    iat,
    nbf: iat - skew,
    exp: iat + lifetime,
    jti: randomBytes(10).toString('hex'),
  })
}

// What we sign must verify, and look like the server's token.
{
  const sample = await sign()
  await jwtVerify(sample, createPublicKey(key), { algorithms: [active.alg] })
  const a = Object.keys(claims).sort().join(',')
  const b = Object.keys(decodeJwt(sample)).sort().join(',')
  if (a !== b) throw new Error(`claims differ: server {${a}} vs ours {${b}}`)
}

async function loop(ms: number): Promise<number> {
  const end = performance.now() + ms
  let n = 0
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await sign()
        n++
      }
    }),
  )
  return n
}

if (WARMUP > 0) await loop(WARMUP * 1000)
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const signs = await loop(SECONDS * 1000)
const elapsed = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
console.log(
  JSON.stringify({
    alg: active.alg,
    kid: active.kid,
    in_flight: IN_FLIGHT,
    seconds: elapsed,
    signs,
    signs_per_sec: signs / elapsed,
    cpu_us_per_sign: (cpu.user + cpu.system) / signs,
  }),
)
