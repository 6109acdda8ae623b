import type { Effects } from '../lib/effects'
import type { EnvDb, EnvTx } from './types'

/** Where a failed post-commit effect is reported (the env's logger). */
interface ErrorLog {
  error(obj: object, msg: string): void
}

export type After = (effect: () => unknown) => void

/**
 * Synchronous transaction with side effects deferred until after commit. bun:sqlite
 * transactions are synchronous: an `await` inside one commits early (drizzle #2275), so async
 * callbacks are refused. Async work (hashing, signing, HTTP) happens before; effects queued
 * with `after` run once the commit has succeeded, on a microtask, without the caller waiting;
 * a failing effect is logged. `ctx.effects` counts them until they settle, so a test (or
 * anything else owning the process) can wait for them: `await effects.idle()`.
 */
export function withTx<T>(
  ctx: { db: EnvDb; log: ErrorLog; effects: Effects },
  fn: (tx: EnvTx, after: After) => T,
): T {
  if (fn.constructor.name === 'AsyncFunction') throw new TypeError('withTx: the callback must be synchronous')
  const effects: Array<() => unknown> = []
  const result = ctx.db.transaction(
    (tx) => {
      const out = fn(tx, (e) => effects.push(e))
      if (out instanceof Promise) throw new TypeError('withTx: the callback returned a Promise')
      return out
    },
    { behavior: 'immediate' },
  )
  for (const effect of effects) {
    ctx.effects.track(
      Promise.resolve()
        .then(effect)
        .catch((err) => ctx.log.error({ err }, 'post-commit effect failed')),
    )
  }
  return result
}
