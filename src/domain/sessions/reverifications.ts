import { desc, eq } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type ReverificationRow, reverifications } from './schema'

/** Rows of a session's step-ups (the flow is src/flows/account/step-up.ts). */

export function insertReverification(
  ctx: EnvContext,
  fields: Pick<ReverificationRow, 'sessionId' | 'level' | 'status'>,
): ReverificationRow {
  const now = ctx.clock.now()
  const row: ReverificationRow = {
    id: newId('reverification'),
    firstFactorChallengeId: null,
    secondFactorChallengeId: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  }
  withTx(ctx, (tx) => tx.insert(reverifications).values(row).run())
  return row
}

/** The session's newest step-up, if any. */
export const latestReverification = (ctx: EnvContext, sessionId: string): ReverificationRow | null =>
  ctx.db
    .select()
    .from(reverifications)
    .where(eq(reverifications.sessionId, sessionId))
    .orderBy(desc(reverifications.createdAt), desc(reverifications.id))
    .get() ?? null

export function updateReverification(
  tx: EnvTx,
  ctx: EnvContext,
  r: ReverificationRow,
  changes: Partial<ReverificationRow>,
): ReverificationRow {
  const updated = { ...r, ...changes, updatedAt: ctx.clock.now() }
  tx.update(reverifications)
    .set({ ...changes, updatedAt: updated.updatedAt })
    .where(eq(reverifications.id, r.id))
    .run()
  return updated
}
