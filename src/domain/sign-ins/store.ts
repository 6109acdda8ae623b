import { and, eq, inArray, lte } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type SignInRow, signIns } from './schema'

/** An unfinished sign-in is abandoned after this long. */
export const SIGN_IN_TTL_MS = 30 * 60_000

/** The rows of the sign-in state machine (src/flows/sign-in); the machine decides what they hold. */
export function insertSignIn(
  tx: EnvTx,
  ctx: EnvContext,
  fields: Pick<SignInRow, 'clientId' | 'status' | 'identifier' | 'userId'> & Partial<SignInRow>,
): SignInRow {
  const now = ctx.clock.now()
  const row: SignInRow = {
    id: newId('signIn'),
    firstFactorChallengeId: null,
    secondFactorChallengeId: null,
    firstFactorStrategy: null,
    createdSessionId: null,
    abandonAt: now + SIGN_IN_TTL_MS,
    createdAt: now,
    updatedAt: now,
    ...fields,
  }
  tx.insert(signIns).values(row).run()
  return row
}

export function updateSignIn(
  tx: EnvTx,
  ctx: EnvContext,
  row: SignInRow,
  changes: Partial<SignInRow>,
): SignInRow {
  const updated = { ...row, ...changes, updatedAt: ctx.clock.now() }
  tx.update(signIns)
    .set({ ...changes, updatedAt: updated.updatedAt })
    .where(eq(signIns.id, row.id))
    .run()
  return updated
}

/** A sign-in of this client, or 404 (another client's reads as missing). */
export function requireClientSignIn(ctx: EnvContext, clientId: string | undefined, id: string): SignInRow {
  const row = clientId
    ? ctx.db
        .select()
        .from(signIns)
        .where(and(eq(signIns.id, id), eq(signIns.clientId, clientId)))
        .get()
    : undefined
  if (!row) throw notFound('sign-in')
  return row
}

export const findSignIn = (db: EnvContext['db'] | EnvTx, id: string): SignInRow | null =>
  db.select().from(signIns).where(eq(signIns.id, id)).get() ?? null

/** Job: unfinished sign-ins past their deadline are abandoned. */
export function abandonSignIns(ctx: EnvContext) {
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.update(signIns)
      .set({ status: 'abandoned', updatedAt: now })
      .where(
        and(
          inArray(signIns.status, [
            'needs_identifier',
            'needs_first_factor',
            'needs_second_factor',
            'needs_new_password',
          ]),
          lte(signIns.abandonAt, now),
        ),
      )
      .run()
  })
}
