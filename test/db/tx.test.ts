import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { withTx } from '../../src/db/tx'
import type { Logger } from '../../src/log'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(() => h.close())

/** Lets every queued microtask and ready I/O callback run once, without waiting on time. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('withTx post-commit effects', () => {
  it('runs effects after the commit, never for a rollback, and counts them until they settle', async () => {
    const ran: string[] = []
    const gate = Promise.withResolvers<void>()
    h.ctx((ctx) => {
      withTx(ctx, (tx, after) => {
        tx.run('CREATE TABLE t (n INTEGER)')
        after(async () => {
          ran.push('started')
          await gate.promise
          ran.push('done')
        })
      })
      expect(ran).toEqual([]) // not inside the caller's synchronous path
      expect(ctx.effects.pending()).toBe(1)
      expect(() =>
        withTx(ctx, (tx, after) => {
          tx.run('INSERT INTO t VALUES (1)')
          after(() => ran.push('rolled back'))
          throw new Error('abort')
        }),
      ).toThrow('abort')
    })

    let settled = false
    const settling = h.settle().then(() => {
      settled = true
    })
    await yieldToLoop()
    expect(ran).toEqual(['started'])
    expect(settled).toBe(false) // the effect is still waiting on its gate
    gate.resolve()
    await settling
    expect(ran).toEqual(['started', 'done'])
    expect(h.ctx((ctx) => ctx.effects.pending())).toBe(0)
    expect(h.ctx((ctx) => ctx.client.query('SELECT count(*) AS n FROM t').get())).toEqual({ n: 0 })
  })

  it('logs a failing effect and still settles', async () => {
    const errors: string[] = []
    const log = { error: (_obj: unknown, msg: string) => errors.push(msg) } as unknown as Logger
    h.ctx((ctx) =>
      withTx({ ...ctx, log }, (_tx, after) => {
        after(() => {
          throw new Error('boom')
        })
        after(async () => {
          throw new Error('async boom')
        })
      }),
    )
    await h.settle()
    expect(errors).toEqual(['post-commit effect failed', 'post-commit effect failed'])
  })

  it('settles effects started by effects', async () => {
    const ran: number[] = []
    h.ctx((ctx) =>
      withTx(ctx, (_tx, after) =>
        after(() => {
          ran.push(1)
          withTx(ctx, (_tx2, after2) => after2(() => ran.push(2)))
        }),
      ),
    )
    await h.settle()
    expect(ran).toEqual([1, 2])
  })
})
