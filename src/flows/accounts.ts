import { withTx } from '../db/tx'
import { dropUserMemberships } from '../domain/organizations/service'
import { revokeUserSessions } from '../domain/sessions/service'
import { changeUser, deleteUserRow } from '../domain/users/service'
import type { EnvContext } from '../tenancy/context'

/**
 * What goes with a user, in one transaction: the cascades of deleting or banning an account.
 * They run before the user row changes, so the events they write (session.revoked,
 * organizationMembership.deleted) still describe the user.
 */

export function deleteUser(ctx: EnvContext, id: string) {
  return withTx(ctx, (tx) => {
    revokeUserSessions(tx, ctx, id)
    dropUserMemberships(tx, ctx, id)
    return deleteUserRow(tx, ctx, id)
  })
}

/** A ban also revokes every live session of the user. */
export const banUser = (ctx: EnvContext, id: string) =>
  changeUser(ctx, id, (tx) => {
    revokeUserSessions(tx, ctx, id)
    return { banned: true }
  })
