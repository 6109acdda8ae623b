import { type ListQuery, pageOf } from '../../db/pages'
import { withTx } from '../../db/tx'
import { assertScimOwnedUnchanged } from '../../domain/scim/managed'
import {
  endSession,
  findUserSession,
  isLive,
  pageOfLiveUserSessions,
  revokeUserSessions,
} from '../../domain/sessions/service'
import { assertUsernameFree, normalizeUsername } from '../../domain/users/identifiers'
import { assertMaySignIn, recordFailedVerification } from '../../domain/users/lockout'
import { checkMetadata } from '../../domain/users/metadata'
import { checkPasswordPolicy } from '../../domain/users/password-policy'
import type { UserRow } from '../../domain/users/schema'
import { changeUser, primaryChanges } from '../../domain/users/service'
import { formError, formParamMissing, notFound } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { deleteUser } from '../accounts'
import { toFapiSession, toFapiUser } from '../client/view'
import type { SignedIn } from './signed-in'

/** The signed-in user's own account: profile, password, sessions, deletion. */

const me = (ctx: EnvContext, userId: string) => {
  const user = toFapiUser(ctx, userId)
  if (!user) throw notFound('user')
  return user
}

export const getMe = (ctx: EnvContext, { user }: SignedIn) => me(ctx, user.user.id)

export interface UpdateMeInput {
  first_name?: string | null
  last_name?: string | null
  username?: string | null
  unsafe_metadata?: Record<string, unknown>
  primary_email_address_id?: string
  primary_phone_number_id?: string
}

export function updateMe(ctx: EnvContext, { user }: SignedIn, input: UpdateMeInput) {
  const settings = ctx.settings()
  const username =
    input.username === undefined
      ? undefined
      : input.username === null
        ? null
        : normalizeUsername(input.username, settings)
  if (username && !settings.identifiers.username.enabled)
    throw formError('form_param_unknown', 'username', 'is not enabled', 'Usernames are not enabled.')
  if (username === null && settings.identifiers.username.required)
    throw formError('form_param_nil', 'username', 'cannot be removed', 'A username is required.')
  if (input.unsafe_metadata) checkMetadata('unsafe_metadata', input.unsafe_metadata)
  assertScimOwnedUnchanged(ctx, user.user.id, input)
  changeUser(ctx, user.user.id, (tx, { emails, phones }) => {
    const set: Partial<UserRow> = {}
    if (username !== undefined) {
      if (username) assertUsernameFree(tx, username, user.user.id)
      set.username = username
    }
    if (input.first_name !== undefined) set.firstName = input.first_name
    if (input.last_name !== undefined) set.lastName = input.last_name
    if (input.unsafe_metadata) set.unsafeMetadata = input.unsafe_metadata
    Object.assign(set, primaryChanges({ emails, phones }, input, 'self'))
    return set
  })
  return me(ctx, user.user.id)
}

export const deleteMe = (ctx: EnvContext, { user }: SignedIn) => deleteUser(ctx, user.user.id)

export async function changePassword(
  ctx: EnvContext,
  { user, session }: SignedIn,
  input: { current_password?: string; new_password: string; sign_out_of_other_sessions?: boolean },
) {
  if (user.user.passwordDigest) {
    if (input.current_password === undefined) throw formParamMissing('current_password')
    // The current password is a factor like any other: a locked account cannot be tried, and
    // wrong guesses count toward the lockout.
    assertMaySignIn(user.user, ctx.clock.now())
    if (!(await ctx.passwords.verify(input.current_password, user.user.passwordDigest))) {
      const locked = withTx(ctx, (tx) => recordFailedVerification(tx, ctx, user.user.id))
      throw (
        locked ??
        formError(
          'form_password_incorrect',
          'current_password',
          'is incorrect',
          'The current password is incorrect.',
        )
      )
    }
  }
  checkPasswordPolicy(input.new_password, ctx.settings().password, 'new_password')
  const digest = await ctx.passwords.hash(input.new_password)
  changeUser(ctx, user.user.id, (tx, _agg, now) => {
    if (input.sign_out_of_other_sessions) revokeUserSessions(tx, ctx, user.user.id, session.id)
    return { passwordDigest: digest, passwordUpdatedAt: now }
  })
  return me(ctx, user.user.id)
}

/** The user's live sessions on every device, a page at a time (newest first). */
export function mySessions(ctx: EnvContext, { user }: SignedIn, q: ListQuery) {
  const page = pageOfLiveUserSessions(ctx, user.user.id, q)
  return pageOf(
    page.rows.map((s) => toFapiSession(ctx, s)),
    page.next_cursor,
    page.total,
  )
}

export function revokeMySession(ctx: EnvContext, { user }: SignedIn, id: string) {
  const target = findUserSession(ctx, user.user.id, id)
  if (!target) throw notFound('session')
  if (!isLive(target, ctx.clock.now())) return toFapiSession(ctx, target)
  return toFapiSession(
    ctx,
    withTx(ctx, (tx) => endSession(tx, ctx, target, 'revoked')),
  )
}
