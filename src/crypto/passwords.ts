import { AppError } from '../lib/errors'

/**
 * argon2id through Bun.password, behind a small bounded queue: each hash takes ~100 ms and
 * 64 MiB, so a burst of sign-ins must wait its turn instead of exhausting memory or starving
 * the event loop's other work (token refreshes). Never call these inside a transaction.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(password: string, digest: string): Promise<boolean>
  readonly pending: number
}

export interface PasswordHasherOptions {
  concurrency: number
  /** Waiting jobs beyond this are refused with 429 rather than queued without bound. */
  maxQueue?: number
  /** argon2id cost; tests lower it. */
  memoryCost?: number
  timeCost?: number
}

export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const maxQueue = opts.maxQueue ?? 1000
  let running = 0
  const waiting: Array<() => void> = []

  async function run<T>(job: () => Promise<T>): Promise<T> {
    if (running >= opts.concurrency) {
      if (waiting.length >= maxQueue) {
        throw new AppError(
          429,
          [{ code: 'too_many_requests', message: 'too many requests', long_message: 'Try again shortly.' }],
          { headers: { 'retry-after': '1' } },
        )
      }
      await new Promise<void>((resolve) => waiting.push(resolve))
    }
    running++
    try {
      return await job()
    } finally {
      running--
      waiting.shift()?.()
    }
  }

  return {
    hash: (password) =>
      run(() =>
        Bun.password.hash(password, {
          algorithm: 'argon2id',
          memoryCost: opts.memoryCost ?? 65536,
          timeCost: opts.timeCost ?? 2,
        }),
      ),
    // Bun.password.verify reads the algorithm from the digest: argon2id/argon2i/argon2d and
    // bcrypt, which covers imported digests too.
    verify: (password, digest) => run(() => Bun.password.verify(password, digest).catch(() => false)),
    get pending() {
      return running + waiting.length
    },
  }
}

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/
const ARGON2 = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/

export const PASSWORD_HASHERS = ['bcrypt', 'argon2id', 'argon2i'] as const
export type ImportedHasher = (typeof PASSWORD_HASHERS)[number]

/** Checks an imported digest has the shape its hasher produces, so sign-in can verify it. */
export function isValidDigest(hasher: ImportedHasher, digest: string): boolean {
  if (hasher === 'bcrypt') return BCRYPT.test(digest)
  const m = ARGON2.exec(digest)
  return !!m && m[1] === hasher.slice('argon2'.length)
}
