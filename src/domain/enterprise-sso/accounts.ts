import { and, eq, isNull } from 'drizzle-orm'
import { type Page, pageOf, tablePage } from '../../db/pages'
import { rawSelect } from '../../db/raw'
import { withTx } from '../../db/tx'
import { assertThat, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import type { EnterpriseAccountResource, ListEnterpriseAccountsQuery } from './model'
import {
  type EnterpriseAccountRow,
  type EnterpriseConnectionRow,
  enterpriseAccounts,
  enterpriseConnections,
} from './schema'
import { toAccountResource } from './serialize'

type Db = EnvContext['db'] | EnvTx

const providerOf = (db: Db, connectionId: string) =>
  db
    .select({ provider: enterpriseConnections.provider })
    .from(enterpriseConnections)
    .where(eq(enterpriseConnections.id, connectionId))
    .get()?.provider ?? 'unknown'

export const accountResource = (db: Db, a: EnterpriseAccountRow) =>
  toAccountResource(a, providerOf(db, a.connectionId))

/** The linked account of an IdP identity: (connection, NameID | sub), never the email. */
export const findLinkedAccount = (db: Db, connectionId: string, providerUserId: string) =>
  db
    .select()
    .from(enterpriseAccounts)
    .where(
      and(
        eq(enterpriseAccounts.connectionId, connectionId),
        eq(enterpriseAccounts.providerUserId, providerUserId),
        isNull(enterpriseAccounts.unlinkedAt),
      ),
    )
    .get()

export interface IdpIdentity {
  subject: string
  emailAddress: string | null
  firstName: string | null
  lastName: string | null
}

/** Links a user to an IdP identity, in the caller's transaction (enterpriseAccount.created). */
export function linkAccount(
  tx: EnvTx,
  ctx: EnvContext,
  connection: EnterpriseConnectionRow,
  userId: string,
  identity: IdpIdentity,
): EnterpriseAccountRow {
  const now = ctx.clock.now()
  const row: EnterpriseAccountRow = {
    id: newId('enterpriseAccount'),
    userId,
    connectionId: connection.id,
    protocol: connection.protocol,
    providerUserId: identity.subject,
    emailAddress: identity.emailAddress,
    firstName: identity.firstName,
    lastName: identity.lastName,
    lastAuthenticatedAt: now,
    unlinkedAt: null,
    createdAt: now,
    updatedAt: now,
  }
  tx.insert(enterpriseAccounts).values(row).run()
  emit(tx, ctx, 'enterpriseAccount.created', toAccountResource(row, connection.provider))
  return row
}

/** A sign-in through the account: its time, and the IdP's attributes when the connection syncs them. */
export function touchAccount(
  tx: EnvTx,
  ctx: EnvContext,
  account: EnterpriseAccountRow,
  identity: IdpIdentity,
  sync: boolean,
) {
  const now = ctx.clock.now()
  tx.update(enterpriseAccounts)
    .set({
      lastAuthenticatedAt: now,
      updatedAt: now,
      ...(sync
        ? { emailAddress: identity.emailAddress, firstName: identity.firstName, lastName: identity.lastName }
        : {}),
    })
    .where(eq(enterpriseAccounts.id, account.id))
    .run()
}

export function listAccounts(
  ctx: EnvContext,
  q: ListEnterpriseAccountsQuery,
): Page<EnterpriseAccountResource> {
  const filter = and(
    q.user_id !== undefined ? eq(enterpriseAccounts.userId, q.user_id) : undefined,
    q.enterprise_connection_id !== undefined
      ? eq(enterpriseAccounts.connectionId, q.enterprise_connection_id)
      : undefined,
  )
  const page = tablePage(ctx, enterpriseAccounts, filter, q)
  return pageOf(
    page.rows.map((a) => accountResource(ctx.db, a)),
    page.next_cursor,
    page.total,
  )
}

function requireAccount(db: Db, id: string): EnterpriseAccountRow {
  const row = isId('enterpriseAccount', id)
    ? db.select().from(enterpriseAccounts).where(eq(enterpriseAccounts.id, id)).get()
    : undefined
  assertThat(row, () => notFound('enterprise account'))
  return row
}

export const getAccount = (ctx: EnvContext, id: string) => accountResource(ctx.db, requireAccount(ctx.db, id))

/** Unlink: the row stays for audit (`unlinked_at`), the user stays; the identity no longer signs in. */
export function unlinkAccount(ctx: EnvContext, id: string) {
  return withTx(ctx, (tx) => {
    const row = requireAccount(tx, id)
    const now = ctx.clock.now()
    if (row.unlinkedAt === null)
      tx.update(enterpriseAccounts)
        .set({ unlinkedAt: now, updatedAt: now })
        .where(eq(enterpriseAccounts.id, id))
        .run()
    const deleted = { object: 'enterprise_account' as const, id, deleted: true as const }
    emit(tx, ctx, 'enterpriseAccount.deleted', {
      ...accountResource(tx, requireAccount(tx, id)),
      deleted: true,
    })
    return deleted
  })
}

/** The user's linked enterprise accounts (every user resource carries them: a raw prepared read). */
export const accountsOfUser = (ctx: EnvContext, userId: string) =>
  ctx
    .prepared('enterprise_accounts.of_user', () =>
      rawSelect(
        ctx.client,
        enterpriseAccounts,
        'user_id = ? and unlinked_at is null order by created_at, id',
      ),
    )
    .all(userId)
    .map((a) => accountResource(ctx.db, a))
