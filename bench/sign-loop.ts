// The raw signing ceiling for bench/ceiling.ts: one process signing a session token's worth of
// claims with the server's own signer (src/crypto/jws.ts) in a loop, nothing else.
// usage: bun bench/sign-loop.ts RS256|ES256 SECONDS   → prints {"signs":N,"per_sec":R}
import { generateKeyPairSync } from 'node:crypto'
import { type JwsAlgorithm, signJwt } from '../src/crypto/jws'

const alg = (process.argv[2] ?? 'RS256') as JwsAlgorithm
const seconds = Number(process.argv[3] ?? 10)
const { privateKey } =
  alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519')
const header = { typ: 'JWT', kid: 'ins_2bench0000000000000000000' }
const claims = (i: number) => {
  const now = Math.floor(Date.now() / 1000)
  return {
    azp: 'http://localhost:5173',
    exp: now + 60,
    fva: [0, -1],
    iat: now,
    iss: 'http://es256.localhost',
    jti: `bench${i}`,
    nbf: now - 5,
    sid: 'sess_01JBENCH0000000000000000000',
    sts: 'active',
    sub: 'user_01JBENCH0000000000000000000',
    v: 2,
  }
}
const end = performance.now() + seconds * 1000
let signs = 0
while (performance.now() < end) for (let k = 0; k < 20; k++) signJwt(alg, privateKey, header, claims(signs++))
console.log(JSON.stringify({ signs, per_sec: signs / seconds }))
