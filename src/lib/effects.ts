/**
 * Work started after a response is decided and not awaited by it: post-commit effects of
 * `withTx` (message delivery, ...). The tracker only counts them, so that whoever owns the
 * runtime can wait until they have settled instead of guessing how long they take (tests do,
 * through Runtime.idle; serve's shutdown does not wait for them). Tracking never changes when
 * or how an effect runs, and never rejects.
 */
export interface Effects {
  /** Counts `work` as pending until it settles; its outcome is the caller's business. */
  track(work: Promise<unknown>): void
  /** Effects started and not yet settled. */
  pending(): number
  /** Resolves once nothing is pending, including effects started while waiting. */
  idle(): Promise<void>
}

export function createEffects(): Effects {
  const inFlight = new Set<Promise<unknown>>()
  return {
    track(work) {
      const settled = work.then(
        () => {},
        () => {},
      )
      inFlight.add(settled)
      void settled.then(() => inFlight.delete(settled))
    },
    pending: () => inFlight.size,
    async idle() {
      while (inFlight.size) await Promise.all(inFlight)
    },
  }
}
