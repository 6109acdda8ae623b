/**
 * Password digests we verify: argon2 (ours, and imported) and bcrypt (imported). A digest names
 * its own cost, and verifying it costs exactly that, on one of the process's few hashing slots
 * (passwords.ts). So the cost is bounded here, both when a digest is imported (a 422) and again
 * before every verification (a digest stored before these bounds, or in a copied env folder).
 *
 * The bounds keep one verification around a second or two on a small server: bcrypt cost 14 and
 * argon2 at 256 MiB × 4 passes are each ~1.5–3 s on two slow cores (default argon2id, 64 MiB × 2,
 * is ~0.1–0.4 s). m × t is bounded as well as m and t, because argon2's time is their product:
 * 256 MiB with t=10 alone would be ~7 s.
 */
export const DIGEST_BOUNDS = {
  bcrypt: { minCost: 4, maxCost: 14 },
  /** m in KiB, as the digest writes it. */
  argon2: { maxMemoryKiB: 262_144, maxTime: 10, maxParallelism: 16, maxMemoryTimeKiB: 1_048_576 },
} as const

export type DigestParams =
  | { algorithm: 'bcrypt'; cost: number }
  | { algorithm: 'argon2id' | 'argon2i' | 'argon2d'; version: number; m: number; t: number; p: number }

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/
const ARGON2 =
  /^\$(argon2(?:id|i|d))\$v=(16|19)\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/

/** The algorithm and cost a digest asks for; null when it is no digest we know how to verify. */
export function digestParams(digest: string): DigestParams | null {
  const b = BCRYPT.exec(digest)
  if (b) return { algorithm: 'bcrypt', cost: Number(b[1]) }
  const a = ARGON2.exec(digest)
  if (!a) return null
  return {
    algorithm: a[1] as 'argon2id' | 'argon2i' | 'argon2d',
    version: Number(a[2]),
    m: Number(a[3]),
    t: Number(a[4]),
    p: Number(a[5]),
  }
}

/** Why a digest with these parameters is not verified here (a sentence), or null when it is. */
export function boundsProblem(d: DigestParams): string | null {
  if (d.algorithm === 'bcrypt') {
    const { minCost, maxCost } = DIGEST_BOUNDS.bcrypt
    if (d.cost < minCost || d.cost > maxCost)
      return `password_digest has bcrypt cost ${d.cost}; this server accepts bcrypt costs ${minCost} to ${maxCost}.`
    return null
  }
  const { maxMemoryKiB, maxTime, maxParallelism, maxMemoryTimeKiB } = DIGEST_BOUNDS.argon2
  const name = d.algorithm
  if (d.p < 1 || d.p > maxParallelism)
    return `password_digest has ${name} parallelism p=${d.p}; this server accepts p from 1 to ${maxParallelism}.`
  if (d.t < 1 || d.t > maxTime)
    return `password_digest has ${name} time cost t=${d.t}; this server accepts t from 1 to ${maxTime}.`
  if (d.m < 8 * d.p || d.m > maxMemoryKiB)
    return `password_digest has ${name} memory m=${d.m} KiB; this server accepts at least 8 KiB per lane (8 × p) and at most ${maxMemoryKiB} KiB (256 MiB).`
  if (d.m * d.t > maxMemoryTimeKiB)
    return `password_digest has ${name} m × t = ${d.m} KiB × ${d.t}; this server accepts m × t up to ${maxMemoryTimeKiB} KiB (256 MiB with t=4, or 64 MiB with t=10).`
  return null
}

export const PASSWORD_HASHERS = ['bcrypt', 'argon2id', 'argon2i'] as const
export type ImportedHasher = (typeof PASSWORD_HASHERS)[number]

/**
 * Why an imported digest is refused (the 422's long message), or null when sign-in can verify
 * it: it must have the shape its hasher produces and a cost within DIGEST_BOUNDS.
 */
export function importedDigestProblem(hasher: ImportedHasher, digest: string): string | null {
  const d = digestParams(digest)
  if (!d || d.algorithm !== hasher) return `password_digest is not a valid ${hasher} digest.`
  return boundsProblem(d)
}

/** Checks an imported digest has the shape its hasher produces and a cost we verify. */
export const isValidDigest = (hasher: ImportedHasher, digest: string): boolean =>
  importedDigestProblem(hasher, digest) === null
