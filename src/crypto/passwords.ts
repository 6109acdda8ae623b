import { AppError } from '../lib/errors'
import { boundsProblem, type DigestParams, digestParams } from './digests'

export {
  DIGEST_BOUNDS,
  type ImportedHasher,
  importedDigestProblem,
  isValidDigest,
  PASSWORD_HASHERS,
} from './digests'

/**
 * argon2id through Bun.password, behind a small bounded queue shared by every env of the
 * process: each hash takes ~100 ms and 64 MiB, so a burst of sign-ins must wait its turn instead
 * of exhausting memory or starving the event loop's other work (token refreshes). Never call
 * these inside a transaction.
 *
 * The queue is fair between envs (`forEnv`): a freed slot goes to the env with the fewest jobs
 * running among those waiting, ties to the one served least recently, so one env's flood delays
 * another env's job by at most one slot turnover; each env's waiting line has its own cap (429).
 * Every job has a deadline: past it, its caller gets a 503 and a job still waiting is dropped.
 * Bun.password runs on a worker thread and cannot be stopped, so a job already running keeps its
 * slot, and its env's share, until the work really ends; digest bounds (digests.ts) keep that
 * bounded.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(password: string, digest: string): Promise<boolean>
  /** Jobs running or waiting: the process's on the shared hasher, the env's on a forEnv one. */
  readonly pending: number
  /**
   * No password job runs or waits in the whole process (any env's): Bun's worker threads are
   * free of argon2, so other work sent there (WebCrypto signatures) does not queue behind it.
   */
  readonly idle: boolean
  /** The same queue, with this env's jobs accounted to the env (its fair share, its own cap). */
  forEnv(envId: string): PasswordHasher
}

/** The hashing itself; Bun.password unless a test injects work it controls. */
export interface PasswordWork {
  hash(password: string, cost: { memoryCost: number; timeCost: number }): Promise<string>
  /** Resolves false (never rejects) for a wrong password or a digest it cannot read. */
  verify(password: string, digest: string): Promise<boolean>
}

/** Calls fire after ms unless the returned cancel is called first. */
export type Timer = (ms: number, fire: () => void) => () => void

/** The part of a logger the hasher uses (pino's fits). */
export interface HasherLog {
  warn(fields: Record<string, unknown>, message: string): void
}

export interface PasswordHasherOptions {
  concurrency: number
  /** Waiting jobs of the whole process beyond this are refused with 429. */
  maxQueue?: number
  /** Waiting jobs of one env beyond this are refused with 429 (the env's own line). */
  maxQueuePerEnv?: number
  /** A job's time budget from when it is asked for (waiting and running), in ms. */
  deadlineMs?: number
  /** argon2id cost; tests lower it. */
  memoryCost?: number
  timeCost?: number
  log?: HasherLog
  /** Told how long each job waited for a slot (ms) when it starts: the metrics' queue wait. */
  onWait?: (ms: number) => void
  work?: PasswordWork
  /** setTimeout (unref'd) by default; tests fire deadlines themselves. */
  timer?: Timer
}

export const PASSWORD_QUEUE_DEFAULTS = { maxQueue: 1000, maxQueuePerEnv: 32, deadlineMs: 10_000 } as const

// Read Bun.password at call time (test/e2e/password-flood.test.ts counts calls by wrapping it).
const bunWork: PasswordWork = {
  hash: (password, cost) => Bun.password.hash(password, { algorithm: 'argon2id', ...cost }),
  // Bun.password.verify reads the algorithm from the digest: argon2id/argon2i/argon2d and bcrypt.
  verify: (password, digest) => Bun.password.verify(password, digest).catch(() => false),
}

const realTimer: Timer = (ms, fire) => {
  const t = setTimeout(fire, ms)
  t.unref?.()
  return () => clearTimeout(t)
}

/** The env of jobs asked for without forEnv (none in the server; scripts, benchmarks). */
const PROCESS = ''

interface Job {
  begin(): void
}

interface EnvLine {
  id: string
  running: number
  waiting: Job[]
  /** When this env last got a slot (a counter); 0 for an env new to the queue. */
  served: number
}

const queueFull = (long: string) =>
  new AppError(429, [{ code: 'too_many_requests', message: 'too many requests', long_message: long }], {
    headers: { 'retry-after': '1' },
  })

const pastDeadline = () =>
  new AppError(
    503,
    [
      {
        code: 'service_unavailable',
        message: 'password check unavailable',
        long_message: 'The server is too busy to check passwords right now. Try again in a few seconds.',
      },
    ],
    { headers: { 'retry-after': '5' } },
  )

export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const maxQueue = opts.maxQueue ?? PASSWORD_QUEUE_DEFAULTS.maxQueue
  const maxQueuePerEnv = opts.maxQueuePerEnv ?? PASSWORD_QUEUE_DEFAULTS.maxQueuePerEnv
  const deadlineMs = opts.deadlineMs ?? PASSWORD_QUEUE_DEFAULTS.deadlineMs
  const cost = { memoryCost: opts.memoryCost ?? 65536, timeCost: opts.timeCost ?? 2 }
  const work = opts.work ?? bunWork
  const timer = opts.timer ?? realTimer

  /** Envs with jobs running or waiting; an idle env is dropped. */
  const lines = new Map<string, EnvLine>()
  let running = 0
  let waiting = 0
  let turns = 0

  const lineOf = (envId: string) => {
    let line = lines.get(envId)
    if (!line) {
      line = { id: envId, running: 0, waiting: [], served: 0 }
      lines.set(envId, line)
    }
    return line
  }
  const dropIfIdle = (line: EnvLine) => {
    if (line.running === 0 && line.waiting.length === 0) lines.delete(line.id)
  }

  /** The waiting env with the fewest jobs running, ties to the one served least recently. */
  function nextLine(): EnvLine | undefined {
    let best: EnvLine | undefined
    for (const line of lines.values()) {
      if (line.waiting.length === 0) continue
      if (
        !best ||
        line.running < best.running ||
        (line.running === best.running && line.served < best.served)
      )
        best = line
    }
    return best
  }

  function dispatch() {
    while (running < opts.concurrency) {
      const line = nextLine()
      if (!line) return
      const job = line.waiting.shift() as Job
      waiting--
      running++
      line.running++
      line.served = ++turns
      job.begin()
    }
  }

  function run<T>(envId: string, task: () => Promise<T>): Promise<T> {
    const line = lineOf(envId)
    if (running >= opts.concurrency) {
      const full =
        line.waiting.length >= maxQueuePerEnv
          ? 'Too many password checks for this application are waiting. Try again shortly.'
          : waiting >= maxQueue
            ? 'Too many password checks are waiting. Try again shortly.'
            : null
      if (full) {
        dropIfIdle(line)
        return Promise.reject(queueFull(full))
      }
    }
    return new Promise<T>((resolve, reject) => {
      let state: 'waiting' | 'running' | 'done' = 'waiting'
      let answered = false
      const askedAt = performance.now()
      const job: Job = {
        begin() {
          state = 'running'
          opts.onWait?.(performance.now() - askedAt)
          let promise: Promise<T>
          try {
            promise = task()
          } catch (err) {
            promise = Promise.reject(err)
          }
          // The slot is given back (and the next job started) before the caller hears back.
          const finish = () => {
            state = 'done'
            cancelDeadline()
            running--
            line.running--
            dropIfIdle(line)
            dispatch()
          }
          promise.then(
            (value) => {
              finish()
              if (!answered) resolve(value)
              answered = true
            },
            (err) => {
              finish()
              if (!answered) reject(err)
              answered = true
            },
          )
        },
      }
      const cancelDeadline = timer(deadlineMs, () => {
        if (state === 'done' || answered) return
        if (state === 'waiting') {
          // Never started: no work is done for a caller that has been answered.
          line.waiting.splice(line.waiting.indexOf(job), 1)
          waiting--
          state = 'done'
          dropIfIdle(line)
        }
        // A running job keeps its slot until the worker thread is done with it (finish above).
        answered = true
        reject(pastDeadline())
      })
      line.waiting.push(job)
      waiting++
      dispatch()
    })
  }

  /** A digest out of bounds is refused once per env and kind, not on every sign-in attempt. */
  const warned = new Set<string>()
  function refuse(envId: string, d: DigestParams | null) {
    const kind = d ? JSON.stringify(d) : 'unreadable'
    const key = `${envId}\u0000${kind}`
    if (warned.has(key) || !opts.log) return
    if (warned.size >= 1000) warned.clear()
    warned.add(key)
    opts.log.warn(
      { env_id: envId || undefined, digest_params: d ?? 'unreadable', reason: d ? boundsProblem(d) : null },
      'stored password digest outside the verification bounds: treated as a wrong password, not verified',
    )
  }

  function scoped(envId: string): PasswordHasher {
    return {
      hash: (password) => run(envId, () => work.hash(password, cost)),
      verify(password, digest) {
        const d = digestParams(digest)
        if (!d || boundsProblem(d)) {
          refuse(envId, d)
          return Promise.resolve(false)
        }
        return run(envId, () => work.verify(password, digest))
      },
      get idle() {
        return running + waiting === 0
      },
      get pending() {
        if (envId === PROCESS) return running + waiting
        const line = lines.get(envId)
        return line ? line.running + line.waiting.length : 0
      },
      forEnv: scoped,
    }
  }
  return scoped(PROCESS)
}
