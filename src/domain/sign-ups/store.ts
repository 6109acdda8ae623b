import { and, eq, inArray, lte } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { type SignUpRow, signUps } from './schema'

/** An unfinished sign-up is abandoned after a day without progress. */
export const SIGN_UP_TTL_MS = 24 * 3600_000

/** The rows of the sign-up state machine (src/flows/sign-up); the machine decides what they hold. */
export function insertSignUp(
  tx: EnvTx,
  ctx: EnvContext,
  fields: Pick<SignUpRow, 'clientId'> & Partial<SignUpRow>,
): SignUpRow {
  const now = ctx.clock.now()
  const row: SignUpRow = {
    id: newId('signUp'),
    status: 'missing_requirements',
    emailAddress: null,
    emailVerified: false,
    emailVerificationStrategy: null,
    emailChallengeId: null,
    phoneNumber: null,
    phoneVerified: false,
    phoneChallengeId: null,
    username: null,
    passwordDigest: null,
    firstName: null,
    lastName: null,
    unsafeMetadata: {},
    publicMetadata: {},
    invitationId: null,
    transferChallengeId: null,
    createdUserId: null,
    createdSessionId: null,
    abandonAt: now + SIGN_UP_TTL_MS,
    createdAt: now,
    updatedAt: now,
    ...fields,
  }
  tx.insert(signUps).values(row).run()
  return row
}

/** Progress pushes the abandonment deadline out again. */
export function updateSignUp(
  tx: EnvTx,
  ctx: EnvContext,
  r: SignUpRow,
  changes: Partial<SignUpRow>,
): SignUpRow {
  const now = ctx.clock.now()
  const updated = { ...r, ...changes, updatedAt: now, abandonAt: now + SIGN_UP_TTL_MS }
  tx.update(signUps)
    .set({ ...changes, updatedAt: updated.updatedAt, abandonAt: updated.abandonAt })
    .where(eq(signUps.id, r.id))
    .run()
  return updated
}

/** A sign-up of this client, or 404. */
export function requireClientSignUp(ctx: EnvContext, clientId: string | undefined, id: string): SignUpRow {
  const row = clientId
    ? ctx.db
        .select()
        .from(signUps)
        .where(and(eq(signUps.id, id), eq(signUps.clientId, clientId)))
        .get()
    : undefined
  if (!row) throw notFound('sign-up')
  return row
}

export const findSignUp = (db: EnvContext['db'] | EnvTx, id: string): SignUpRow | null =>
  db.select().from(signUps).where(eq(signUps.id, id)).get() ?? null

/** Job: unfinished sign-ups past their deadline are abandoned. */
export function abandonSignUps(ctx: EnvContext) {
  const now = ctx.clock.now()
  withTx(ctx, (tx) => {
    tx.update(signUps)
      .set({ status: 'abandoned', updatedAt: now })
      .where(and(inArray(signUps.status, ['missing_requirements']), lte(signUps.abandonAt, now)))
      .run()
  })
}
