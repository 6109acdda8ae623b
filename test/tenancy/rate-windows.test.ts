import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openRateWindows } from '../../src/tenancy/rate-windows'

const dir = mkdtempSync(join(tmpdir(), 'authn-rate-windows-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('rate windows in the data root', () => {
  it('counts within a window, starts over after it, and two handles (two workers) share the counts', () => {
    const a = openRateWindows(dir)
    const b = openRateWindows(dir)
    try {
      expect(a.hit('env|bucket|ip', 1_000, 10_000)).toEqual({ start: 1_000, count: 1 })
      expect(b.hit('env|bucket|ip', 2_000, 10_000)).toEqual({ start: 1_000, count: 2 })
      expect(a.hit('env|other|ip', 2_000, 10_000)).toEqual({ start: 2_000, count: 1 })
      expect(a.hit('env|bucket|ip', 10_999, 10_000)).toEqual({ start: 1_000, count: 3 })
      // The window [1 000, 11 000) is over: a new one opens at the request.
      expect(b.hit('env|bucket|ip', 11_000, 10_000)).toEqual({ start: 11_000, count: 1 })
    } finally {
      a.close()
      b.close()
    }
  })
})
