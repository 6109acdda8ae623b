import { Database } from 'bun:sqlite'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from '../db/migrations'

import type { EnvDb } from '../db/types'

export type { EnvDb, EnvTx } from '../db/types'

function applyPragmas(client: Database) {
  client.exec('PRAGMA busy_timeout = 5000')
  client.exec('PRAGMA journal_mode = WAL')
  client.exec('PRAGMA synchronous = NORMAL')
}

/** Opens one env file and brings its schema up to date. */
export function openEnvDatabase(file: string): { client: Database; db: EnvDb } {
  const client = new Database(file, { create: true, strict: true })
  try {
    applyPragmas(client)
    const db = drizzle({ client })
    migrate(client, db, 'env')
    return { client, db }
  } catch (err) {
    client.close()
    throw err
  }
}

export function openRegistryDatabase(file: string) {
  const client = new Database(file, { create: true, strict: true })
  try {
    applyPragmas(client)
    const db = drizzle({ client })
    migrate(client, db, 'registry')
    return { client, db }
  } catch (err) {
    client.close()
    throw err
  }
}
