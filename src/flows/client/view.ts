import type { ClientRow } from '../../domain/clients/schema'
import type { SessionRow } from '../../domain/sessions/schema'
import {
  effectiveStatus,
  factorVerificationAge,
  isLive,
  listClientSessions,
} from '../../domain/sessions/service'
import { toUserResource } from '../../domain/users/serialize'
import { findUser } from '../../domain/users/service'
import type { EnvContext } from '../../tenancy/context'
import { signInResourceById } from '../sign-in/view'
import { signUpResourceById } from '../sign-up/view'

/**
 * The client view: what the Frontend API shows a device of its sessions, user, sign-in and
 * sign-up. It spans capabilities, so it lives above them.
 */

/** The FAPI user: the BAPI user without private metadata. */
export function toFapiUser(ctx: EnvContext, userId: string) {
  const agg = findUser(ctx, userId)
  if (!agg) return null
  const { private_metadata: _, ...user } = toUserResource(ctx, agg)
  return user
}
export type FapiUser = NonNullable<ReturnType<typeof toFapiUser>>

export function toFapiSession(ctx: EnvContext, s: SessionRow) {
  const now = ctx.clock.now()
  const live = isLive(s, now)
  const user = live ? toFapiUser(ctx, s.userId) : null
  return {
    object: 'session' as const,
    id: s.id,
    status: effectiveStatus(s, now),
    expire_at: s.expireAt,
    abandon_at: s.abandonAt,
    last_active_at: s.lastActiveAt,
    last_active_organization_id: s.lastActiveOrganizationId,
    actor: null,
    user,
    public_user_data: user
      ? {
          user_id: user.id,
          first_name: user.first_name,
          last_name: user.last_name,
          image_url: user.image_url,
          has_image: user.has_image,
          username: user.username,
          identifier:
            user.email_addresses.find((e) => e.id === user.primary_email_address_id)?.email_address ??
            user.phone_numbers.find((p) => p.id === user.primary_phone_number_id)?.phone_number ??
            user.username,
        }
      : null,
    factor_verification_age: factorVerificationAge(s, now),
    tasks: s.tasks.map((key) => ({ key })),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  }
}
export type FapiSession = ReturnType<typeof toFapiSession>

export function toClientResource(ctx: EnvContext, client: ClientRow) {
  return {
    object: 'client' as const,
    id: client.id,
    // A removed session is forgotten by the device; ended ones stay for "choose account" UIs.
    sessions: listClientSessions(ctx.db, client.id)
      .filter((s) => s.status !== 'removed')
      .map((s) => toFapiSession(ctx, s)),
    sign_in: client.signInId ? signInResourceById(ctx, client.signInId) : null,
    sign_up: client.signUpId ? signUpResourceById(ctx, client.signUpId) : null,
    last_active_session_id: client.lastActiveSessionId,
    last_authentication_strategy: client.lastAuthenticationStrategy,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  }
}
export type ClientResource = ReturnType<typeof toClientResource>
