import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
} from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { newId } from '../lib/ids'
import type { DataKey } from './seal'

/**
 * Per-env signing keys, one JWK file each in `<env>/keys/` (mode 0600).
 *
 * Lifecycle: a key is published in JWKS from the moment it exists. It signs once its
 * `activate_at` has passed and it is the newest such key; a key with `activate_at: null` is the
 * standby published ahead of the next rotation. A superseded key stays published until
 * `retire_at`, so every token it signed can still be verified.
 */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]

export interface PublicJwk {
  kty: string
  kid: string
  alg: string
  use: 'sig'
  [member: string]: unknown
}

interface KeyFile {
  kid: string
  alg: SigningAlgorithm
  created_at: number
  activate_at: number | null
  retire_at: number | null
  private_jwk: Record<string, unknown>
}

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  createdAt: number
  activateAt: number | null
  retireAt: number | null
  privateKey: KeyObject
  publicJwk: PublicJwk
}

/** JWKS caches may hold a key set this long; a rotation waits this long before a new key signs. */
export const JWKS_MAX_AGE_SECONDS = 300
/** How long a superseded key stays published: longer than any token we sign lives. */
export const KEY_RETENTION_MS = 24 * 60 * 60 * 1000

const generate = promisify(generateKeyPair)

/**
 * Where the private half of a new signing key comes from. Production always generates
 * (`generateSigningKey`); the test harness hands out pre-generated keys, since two RSA-2048
 * pairs per test env cost more than most tests.
 */
export type KeySource = (alg: SigningAlgorithm) => Promise<KeyObject>

export const generateSigningKey: KeySource = async (alg) => {
  switch (alg) {
    case 'RS256':
      return (await generate('rsa', { modulusLength: 2048 })).privateKey
    case 'ES256':
      return (await generate('ec', { namedCurve: 'P-256' })).privateKey
    case 'EdDSA':
      return (await generate('ed25519')).privateKey
  }
}

function toSigningKey(file: KeyFile): SigningKey {
  const privateKey = createPrivateKey({ key: file.private_jwk as never, format: 'jwk' })
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>
  return {
    kid: file.kid,
    alg: file.alg,
    createdAt: file.created_at,
    activateAt: file.activate_at,
    retireAt: file.retire_at,
    privateKey,
    publicJwk: { ...pub, kty: String(pub.kty), kid: file.kid, alg: file.alg, use: 'sig' },
  }
}

/** Writes through a temp file and a rename, so a reader never sees half a key. */
function writeSecretFile(path: string, content: string) {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(tmp, content, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
}

const keyPath = (dir: string, kid: string) => join(dir, `signing-${kid}.json`)

function writeKey(dir: string, key: SigningKey) {
  const file: KeyFile = {
    kid: key.kid,
    alg: key.alg,
    created_at: key.createdAt,
    activate_at: key.activateAt,
    retire_at: key.retireAt,
    private_jwk: key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  }
  writeSecretFile(keyPath(dir, key.kid), `${JSON.stringify(file, null, 2)}\n`)
}

function readKeyFiles(dir: string): KeyFile[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.startsWith('signing-') && f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as KeyFile)
}

export function readKeys(dir: string): SigningKey[] {
  return readKeyFiles(dir)
    .map(toSigningKey)
    .sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid))
}

/**
 * When each key file's retention ends (null while it signs or is published), without making
 * key objects of them: the scheduler asks this of every env it looks at, and an RSA key costs
 * milliseconds to load.
 */
export const keyRetirements = (dir: string): Array<number | null> => readKeyFiles(dir).map((f) => f.retire_at)

async function newKey(
  alg: SigningAlgorithm,
  now: number,
  activateAt: number | null,
  source: KeySource = generateSigningKey,
): Promise<SigningKey> {
  const privateKey = await source(alg)
  if (privateKey.type !== 'private') throw new TypeError('a key source must give private keys')
  const file: KeyFile = {
    kid: newId('signingKey'),
    alg,
    created_at: now,
    activate_at: activateAt,
    retire_at: null,
    private_jwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  }
  return toSigningKey(file)
}

export function ensureKeyDir(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
}

/**
 * A new env gets its signing key and the standby that the first rotation will promote. Each
 * gets a new kid; the key material comes from `source` (freshly generated by default).
 */
export async function createKeySet(
  dir: string,
  alg: SigningAlgorithm,
  now: number,
  source: KeySource = generateSigningKey,
) {
  ensureKeyDir(dir)
  writeKey(dir, await newKey(alg, now, now, source))
  writeKey(dir, await newKey(alg, now, null, source))
}

export function signingKeyAt(keys: SigningKey[], now: number): SigningKey | undefined {
  let best: SigningKey | undefined
  for (const k of keys) {
    if (k.activateAt === null || k.activateAt > now) continue
    if (k.retireAt !== null && k.retireAt <= now) continue
    // Ties go to the newer key (ULID kids sort by creation): an immediate rotation wins.
    const bestAt = best?.activateAt ?? -1
    if (!best || k.activateAt > bestAt || (k.activateAt === bestAt && k.kid > best.kid)) best = k
  }
  return best
}

export const publishedAt = (keys: SigningKey[], now: number) =>
  keys.filter((k) => k.retireAt === null || k.retireAt > now)

export interface RotateOptions {
  /** Algorithm of the key that takes over; defaults to the current one. */
  alg?: SigningAlgorithm
  /** Promote now even if the standby has not been published for a JWKS cache lifetime. */
  immediate?: boolean
}

export interface RotationResult {
  signing: { kid: string; alg: SigningAlgorithm; activate_at: number }
  retiring: { kid: string; retire_at: number } | null
  standby: { kid: string; alg: SigningAlgorithm }
}

/**
 * Promotes the standby (or a fresh key of another algorithm) and publishes a new standby.
 * The promoted key starts signing only once it has been in JWKS for a cache lifetime, so no
 * verifier meets a kid it has not had the chance to fetch.
 */
export async function rotateKeys(
  dir: string,
  now: number,
  opts: RotateOptions = {},
): Promise<RotationResult> {
  const keys = readKeys(dir)
  const current = signingKeyAt(keys, now)
  const alg = opts.alg ?? current?.alg ?? 'RS256'
  const leadMs = JWKS_MAX_AGE_SECONDS * 1000
  let next = keys.find((k) => k.activateAt === null && k.alg === alg)
  for (const k of keys) {
    // A standby that never signed can go at once; it is replaced below.
    if (k.activateAt === null && k !== next) unlinkSync(keyPath(dir, k.kid))
  }
  if (!next) next = await newKey(alg, now, null)
  const activateAt = opts.immediate ? now : Math.max(now, next.createdAt + leadMs)
  next.activateAt = activateAt
  writeKey(dir, next)
  let retiring: RotationResult['retiring'] = null
  for (const k of keys) {
    if (k === next || k.activateAt === null || k.retireAt !== null) continue
    k.retireAt = activateAt + KEY_RETENTION_MS
    writeKey(dir, k)
    if (k === current) retiring = { kid: k.kid, retire_at: k.retireAt }
  }
  const standby = await newKey(alg, now, null)
  writeKey(dir, standby)
  return {
    signing: { kid: next.kid, alg, activate_at: activateAt },
    retiring,
    standby: { kid: standby.kid, alg },
  }
}

/** Deletes key files whose retention has passed. */
export function pruneKeys(dir: string, now: number): string[] {
  const gone: string[] = []
  for (const k of readKeys(dir)) {
    if (k.retireAt !== null && k.retireAt <= now) {
      unlinkSync(keyPath(dir, k.kid))
      gone.push(k.kid)
    }
  }
  return gone
}

/**
 * An env's view of its key directory. It re-reads the files when the directory changes (a
 * `keys rotate` from the CLI), checking at most once a second, and keeps the JWKS body ready.
 */
export interface KeyStore {
  signingKey(now: number): SigningKey
  jwks(now: number): { keys: PublicJwk[] }
  jwksJson(now: number): string
  /** The body and its strong ETag (a hash of the body), computed once per change. */
  jwksDocument(now: number): { json: string; etag: string }
  all(): SigningKey[]
  reload(): void
}

export function openKeyStore(dir: string): KeyStore {
  let keys: SigningKey[] = []
  let dirMtime = -1
  let checkedAt = 0
  let jwksCache: { json: string; etag: string; validUntil: number; from: number } | null = null

  function reload() {
    dirMtime = existsSync(dir) ? statSync(dir).mtimeMs : -1
    keys = readKeys(dir)
    jwksCache = null
  }
  function fresh() {
    const t = performance.now()
    if (t - checkedAt < 1000) return
    checkedAt = t
    const m = existsSync(dir) ? statSync(dir).mtimeMs : -1
    if (m !== dirMtime) reload()
  }
  // The JWKS body changes only when a key is retired (or files change), so it is cached
  // until the next retire_at.
  function jwksDocument(now: number) {
    fresh()
    if (jwksCache && now >= jwksCache.from && now < jwksCache.validUntil) return jwksCache
    const published = publishedAt(keys, now)
    const nextChange = Math.min(
      ...keys.map((k) => (k.retireAt !== null && k.retireAt > now ? k.retireAt : Infinity)),
    )
    const json = JSON.stringify({ keys: published.map((k) => k.publicJwk) })
    const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`
    jwksCache = { json, etag, validUntil: nextChange, from: now }
    return jwksCache
  }
  const jwksJson = (now: number) => jwksDocument(now).json
  reload()
  return {
    signingKey(now) {
      fresh()
      const key = signingKeyAt(keys, now)
      if (!key) throw new Error(`no signing key is active in ${dir}`)
      return key
    },
    jwks: (now) => JSON.parse(jwksJson(now)) as { keys: PublicJwk[] },
    jwksJson,
    jwksDocument,
    all: () => {
      fresh()
      return keys
    },
    reload,
  }
}

const dataKeyPath = (dir: string) => join(dir, 'data.key')

export function createDataKey(dir: string) {
  ensureKeyDir(dir)
  writeSecretFile(dataKeyPath(dir), `${randomBytes(32).toString('base64')}\n`)
}

export function readDataKey(dir: string): DataKey {
  const key = Buffer.from(readFileSync(dataKeyPath(dir), 'utf8').trim(), 'base64')
  if (key.length !== 32) throw new Error(`data key in ${dir} is not 32 bytes`)
  return { key }
}
