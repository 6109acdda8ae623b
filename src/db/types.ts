import type { Database } from 'bun:sqlite'
import type { BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'

/** An env file's drizzle handle (no relational schema: services query their tables directly). */
export type EnvDb = BunSQLiteDatabase & { $client: Database }

/** The transaction withTx hands its callback. */
export type EnvTx = Parameters<Parameters<EnvDb['transaction']>[0]>[0]
