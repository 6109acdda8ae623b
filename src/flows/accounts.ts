import { withTx } from '../db/tx'
import { dropUserMemberships } from '../domain/organizations/service'
import { assertScimOwnedUnchanged } from '../domain/scim/managed'
import { revokeUserSessions } from '../domain/sessions/service'
import type { MetadataBody, UpdateUserBody } from '../domain/users/model'
import {
  changeUser,
  deleteUserRow,
  mergeUserMetadata,
  updateUser as updateUserRow,
} from '../domain/users/service'
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

/** A lock lasts as long as the env's lockout policy says (or until unlocked); sessions end, as with a ban. */
export const lockUser = (ctx: EnvContext, id: string) =>
  changeUser(ctx, id, (tx, _agg, now) => {
    revokeUserSessions(tx, ctx, id)
    const duration = ctx.settings().lockout.duration_seconds
    return { lockedAt: now, lockedUntil: duration === null ? null : now + duration * 1000 }
  })

/** An operator's update; `sign_out_of_other_sessions` ends all the user's sessions with it. */
export function updateUser(ctx: EnvContext, id: string, input: UpdateUserBody) {
  // A directory (SCIM) owns some of a provisioned user's attributes.
  assertScimOwnedUnchanged(ctx, id, input)
  return updateUserRow(ctx, id, input, (tx) => {
    if (input.sign_out_of_other_sessions) revokeUserSessions(tx, ctx, id)
  })
}

/** An operator's metadata merge; keys a directory (SCIM) maps are its own. */
export function mergeMetadata(ctx: EnvContext, id: string, input: MetadataBody) {
  assertScimOwnedUnchanged(ctx, id, input, 'merge')
  return mergeUserMetadata(ctx, id, input)
}
