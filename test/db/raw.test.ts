import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { asc, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { rawSelect } from '../../src/db/raw'

const things = sqliteTable('things', {
  id: text('id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  verified: integer('verified', { mode: 'boolean' }).notNull(),
  tags: text('tags', { mode: 'json' }).$type<string[]>(),
  seenAt: integer('seen_at'),
  kind: text('kind', { enum: ['a', 'b'] }).notNull(),
})

describe('rawSelect', () => {
  it('gives the rows drizzle’s select() gives: keys, booleans, JSON and nulls mapped alike', () => {
    const client = new Database(':memory:', { strict: true })
    client.exec(
      'create table things (id text primary key, owner_id text not null, verified integer not null, tags text, seen_at integer, kind text not null)',
    )
    const db = drizzle({ client })
    db.insert(things)
      .values([
        { id: 't1', ownerId: 'o1', verified: true, tags: ['x', 'y'], seenAt: 5, kind: 'a' },
        { id: 't2', ownerId: 'o1', verified: false, tags: null, seenAt: null, kind: 'b' },
        { id: 't3', ownerId: 'o2', verified: true, tags: [], seenAt: 0, kind: 'a' },
      ])
      .run()
    const raw = rawSelect(client, things, 'owner_id = ? order by id').all('o1')
    expect(raw).toEqual(
      db.select().from(things).where(eq(things.ownerId, 'o1')).orderBy(asc(things.id)).all(),
    )
    expect(raw[0]!.verified).toBe(true)
    expect(raw[1]!.verified).toBe(false)
    expect(raw[0]!.tags).toEqual(['x', 'y'])
    expect(rawSelect(client, things, 'owner_id = ?').all('nobody')).toEqual([])
  })
})
