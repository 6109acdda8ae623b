/** Time comes from a Clock so tests can freeze and advance it; all instants are Unix ms. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export interface FixedClock extends Clock {
  set(ms: number | string): void
  advance(ms: number): void
}

export function fixedClock(start: number | string = '2026-01-01T00:00:00Z'): FixedClock {
  let t = typeof start === 'number' ? start : Date.parse(start)
  return {
    now: () => t,
    set: (ms) => {
      t = typeof ms === 'number' ? ms : Date.parse(ms)
    },
    advance: (ms) => {
      t += ms
    },
  }
}
