import type { EnvContext } from '../../tenancy/context'
import { managedEmailIds } from '../users/managed'
import { findUser } from '../users/service'
import { attributeManagedByScim } from './errors'
import { managedParams } from './mapping'
import { effectiveMapping } from './roles'
import { SCIM_STRATEGY, scimManagerOf } from './users'

/** What an edit on BAPI or FAPI may touch of a user: the fields a directory owns are refused. */
export interface ProfileEdit {
  first_name?: string | null
  last_name?: string | null
  primary_email_address_id?: string
  public_metadata?: Record<string, unknown>
  private_metadata?: Record<string, unknown>
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/**
 * Refuses (409 attribute_managed_by_scim) a change to an attribute the user's directory owns:
 * the mapped name fields and metadata keys, and the sign-in address. Sending the current value
 * again is not a change.
 */
export function assertScimOwnedUnchanged(
  ctx: EnvContext,
  userId: string,
  edit: ProfileEdit,
  /** 'merge': metadata objects are deep-merged (only the keys sent change; null deletes). */
  metadata: 'replace' | 'merge' = 'replace',
) {
  const manager = scimManagerOf(ctx, userId)
  if (!manager) return
  const agg = findUser(ctx, userId)
  if (!agg) return
  const owned = managedParams(effectiveMapping(ctx.db, manager.organizationId))
  const u = agg.user
  if (owned.has('first_name') && edit.first_name !== undefined && !same(edit.first_name, u.firstName))
    throw attributeManagedByScim('first_name')
  if (owned.has('last_name') && edit.last_name !== undefined && !same(edit.last_name, u.lastName))
    throw attributeManagedByScim('last_name')
  if (
    edit.primary_email_address_id !== undefined &&
    edit.primary_email_address_id !== u.primaryEmailAddressId
  )
    throw attributeManagedByScim('primary_email_address_id')
  for (const bag of ['public_metadata', 'private_metadata'] as const) {
    const next = edit[bag]
    if (!next) continue
    const current = bag === 'public_metadata' ? u.publicMetadata : u.privateMetadata
    for (const param of owned) {
      if (!param.startsWith(`${bag}.`)) continue
      const key = param.slice(bag.length + 1)
      if (metadata === 'merge' && !(key in next)) continue
      if (!same(next[key], current[key])) throw attributeManagedByScim(param)
    }
  }
}

/** A directory's address cannot be removed here. */
export function assertNotScimAddress(ctx: EnvContext, userId: string, emailId: string) {
  if (managedEmailIds(ctx.db, userId, SCIM_STRATEGY).includes(emailId))
    throw attributeManagedByScim('email_address')
}
