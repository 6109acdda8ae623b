import { AppError } from './errors'

/**
 * Opaque, versioned keyset cursor: base64url(JSON {v, o, k}). `o` names the ordering the
 * cursor belongs to, `k` holds the sort key of the last row returned.
 */
export interface Cursor {
  order: string
  key: [number | string, string]
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, o: c.order, k: c.key })).toString('base64url')
}

export function decodeCursor(raw: string, order: string): Cursor {
  const invalid = () =>
    new AppError(400, [
      {
        code: 'pagination_cursor_invalid',
        message: 'is invalid',
        long_message: 'The pagination cursor is invalid or belongs to a different ordering.',
        meta: { param_name: 'cursor' },
      },
    ])
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (!parsed || typeof parsed !== 'object') throw invalid()
  const { v, o, k } = parsed as { v?: unknown; o?: unknown; k?: unknown }
  if (v !== 1 || o !== order || !Array.isArray(k) || k.length !== 2) throw invalid()
  const [value, id] = k as unknown[]
  if ((typeof value !== 'number' && typeof value !== 'string') || typeof id !== 'string') throw invalid()
  return { order, key: [value, id] }
}
