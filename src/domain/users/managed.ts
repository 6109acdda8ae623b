import { and, eq, ne } from 'drizzle-orm'
import { newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { assertEmailFree } from './identifiers'
import { emailAddresses, type UserRow } from './schema'

/**
 * Addresses a directory (SCIM) manages are verified by `strategy` (`scim`). Sets the user's
 * managed address to `address` (already normalised) in the caller's transaction: it becomes
 * verified and primary, and the previous managed address goes. Answers the row changes for the
 * user (its new primary), to apply with `changeUserIn`, which emits user.updated.
 */
export function setManagedEmail(
  tx: EnvTx,
  ctx: EnvContext,
  userId: string,
  address: string,
  strategy: string,
): Partial<UserRow> {
  const now = ctx.clock.now()
  const own = tx
    .select()
    .from(emailAddresses)
    .where(and(eq(emailAddresses.userId, userId), eq(emailAddresses.emailAddress, address)))
    .get()
  let id = own?.id
  if (own) {
    if (!own.verified || own.verificationStrategy !== strategy)
      tx.update(emailAddresses)
        .set({ verified: true, verificationStrategy: strategy, updatedAt: now })
        .where(eq(emailAddresses.id, own.id))
        .run()
  } else {
    assertEmailFree(tx, address)
    id = newId('emailAddress')
    tx.insert(emailAddresses)
      .values({
        id,
        userId,
        emailAddress: address,
        verified: true,
        verificationStrategy: strategy,
        createdAt: now,
        updatedAt: now,
      })
      .run()
  }
  tx.delete(emailAddresses)
    .where(
      and(
        eq(emailAddresses.userId, userId),
        eq(emailAddresses.verificationStrategy, strategy),
        ne(emailAddresses.id, id!),
      ),
    )
    .run()
  return { primaryEmailAddressId: id! }
}

/** The ids of a user's addresses a directory manages. */
export const managedEmailIds = (db: EnvContext['db'] | EnvTx, userId: string, strategy: string): string[] =>
  db
    .select({ id: emailAddresses.id })
    .from(emailAddresses)
    .where(and(eq(emailAddresses.userId, userId), eq(emailAddresses.verificationStrategy, strategy)))
    .all()
    .map((r) => r.id)
