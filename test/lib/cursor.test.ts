import { describe, expect, it } from 'bun:test'
import { decodeCursor, encodeCursor } from '../../src/lib/cursor'
import { AppError } from '../../src/lib/errors'

describe('cursor', () => {
  it('round-trips and is bound to its ordering', () => {
    const c = encodeCursor({ order: '-created_at', key: [123, 'user_X'] })
    expect(decodeCursor(c, '-created_at')).toEqual({ order: '-created_at', key: [123, 'user_X'] })
    expect(() => decodeCursor(c, 'created_at')).toThrow(AppError)
  })

  it('rejects garbage as pagination_cursor_invalid', () => {
    for (const raw of [
      '',
      '!!!',
      Buffer.from('{"v":2}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      try {
        decodeCursor(raw, '-created_at')
        throw new Error('accepted')
      } catch (err) {
        expect(err).toBeInstanceOf(AppError)
        expect((err as AppError).items[0]!.code).toBe('pagination_cursor_invalid')
      }
    }
  })
})
