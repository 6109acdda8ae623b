import { and, asc, eq } from 'drizzle-orm'
import { withTx } from '../../db/tx'
import { AppError, formError, formIdentifierExists, formParamMissing, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import {
  answerWithCode,
  issueCodeChallenge,
  issueLinkChallenge,
  requireChallenge,
  toChallengeResource,
} from '../challenges/service'
import { type ClientActor, currentSession, toFapiSession, toFapiUser } from '../clients/service'
import { enrollVerifiedEmail } from '../organizations/enrollment'
import { assertAllowedRedirect } from '../redirects/service'
import { sessions } from '../sessions/schema'
import { endSession, isLive, revokeUserSessions } from '../sessions/service'
import { normalizeEmail, normalizePhone, normalizeUsername } from '../users/identifiers'
import { checkMetadata } from '../users/metadata'
import { checkPasswordPolicy } from '../users/password-policy'
import {
  type EmailAddressRow,
  emailAddresses,
  type PhoneNumberRow,
  phoneNumbers,
  users,
} from '../users/schema'
import { toEmailAddressResource, toPhoneNumberResource } from '../users/serialize'
import { changeUser, deleteUser, findUser } from '../users/service'

export const signedOut = () =>
  new AppError(401, [
    { code: 'authentication_invalid', message: 'signed out', long_message: 'Sign in to use this endpoint.' },
  ])

/** The signed-in user and session this request acts for, or 401. */
export function requireSession(ctx: EnvContext, actor: ClientActor, sessionId: string | null) {
  const session = currentSession(ctx, actor.client, sessionId)
  if (!session) throw signedOut()
  const agg = findUser(ctx, session.userId)
  if (!agg) throw signedOut()
  return { session, agg }
}

const me = (ctx: EnvContext, userId: string) => {
  const user = toFapiUser(ctx, userId)
  if (!user) throw notFound('user')
  return user
}

export const getMe = (ctx: EnvContext, actor: ClientActor, sid: string | null) =>
  me(ctx, requireSession(ctx, actor, sid).agg.user.id)

export interface UpdateMeInput {
  first_name?: string | null
  last_name?: string | null
  username?: string | null
  unsafe_metadata?: Record<string, unknown>
  primary_email_address_id?: string
  primary_phone_number_id?: string
}

export function updateMe(ctx: EnvContext, actor: ClientActor, sid: string | null, input: UpdateMeInput) {
  const { agg } = requireSession(ctx, actor, sid)
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
  changeUser(ctx, agg.user.id, (tx, { emails, phones }) => {
    const set: Partial<typeof users.$inferSelect> = {}
    if (username !== undefined) {
      const owner = username
        ? tx.select({ id: users.id }).from(users).where(eq(users.username, username)).get()
        : undefined
      if (owner && owner.id !== agg.user.id) throw formIdentifierExists('username')
      set.username = username
    }
    if (input.first_name !== undefined) set.firstName = input.first_name
    if (input.last_name !== undefined) set.lastName = input.last_name
    if (input.unsafe_metadata) set.unsafeMetadata = input.unsafe_metadata
    if (input.primary_email_address_id !== undefined) {
      if (!emails.find((e) => e.id === input.primary_email_address_id)?.verified) {
        throw formError(
          'form_param_value_invalid',
          'primary_email_address_id',
          'is invalid',
          'Only a verified address of yours can be primary.',
        )
      }
      set.primaryEmailAddressId = input.primary_email_address_id
    }
    if (input.primary_phone_number_id !== undefined) {
      if (!phones.find((p) => p.id === input.primary_phone_number_id)?.verified) {
        throw formError(
          'form_param_value_invalid',
          'primary_phone_number_id',
          'is invalid',
          'Only a verified number of yours can be primary.',
        )
      }
      set.primaryPhoneNumberId = input.primary_phone_number_id
    }
    return set
  })
  return me(ctx, agg.user.id)
}

export function deleteMe(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  return deleteUser(ctx, agg.user.id)
}

export async function changePassword(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  input: { current_password?: string; new_password: string; sign_out_of_other_sessions?: boolean },
) {
  const { agg, session } = requireSession(ctx, actor, sid)
  if (agg.user.passwordDigest) {
    if (input.current_password === undefined) throw formParamMissing('current_password')
    if (!(await ctx.passwords.verify(input.current_password, agg.user.passwordDigest))) {
      throw formError(
        'form_password_incorrect',
        'current_password',
        'is incorrect',
        'The current password is incorrect.',
      )
    }
  }
  checkPasswordPolicy(input.new_password, ctx.settings().password, 'new_password')
  const digest = await ctx.passwords.hash(input.new_password)
  changeUser(ctx, agg.user.id, (tx, _agg, now) => {
    if (input.sign_out_of_other_sessions) revokeUserSessions(tx, ctx, agg.user.id, session.id)
    return { passwordDigest: digest, passwordUpdatedAt: now }
  })
  return me(ctx, agg.user.id)
}

// ---- sessions -----------------------------------------------------------------------------

export function mySessions(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  const now = ctx.clock.now()
  return ctx.db
    .select()
    .from(sessions)
    .where(eq(sessions.userId, agg.user.id))
    .orderBy(asc(sessions.createdAt), asc(sessions.id))
    .all()
    .filter((s) => isLive(s, now))
    .map((s) => toFapiSession(ctx, s))
}

export function revokeMySession(ctx: EnvContext, actor: ClientActor, sid: string | null, id: string) {
  const { agg } = requireSession(ctx, actor, sid)
  const target = isId('session', id)
    ? ctx.db
        .select()
        .from(sessions)
        .where(and(eq(sessions.id, id), eq(sessions.userId, agg.user.id)))
        .get()
    : undefined
  if (!target) throw notFound('session')
  if (!isLive(target, ctx.clock.now())) return toFapiSession(ctx, target)
  return toFapiSession(
    ctx,
    withTx(ctx, (tx) => endSession(tx, ctx, target, 'revoked')),
  )
}

// ---- email addresses ----------------------------------------------------------------------

function ownEmail(ctx: EnvContext, userId: string, id: string): EmailAddressRow {
  const row = isId('emailAddress', id)
    ? ctx.db
        .select()
        .from(emailAddresses)
        .where(and(eq(emailAddresses.id, id), eq(emailAddresses.userId, userId)))
        .get()
    : undefined
  if (!row) throw notFound('email address')
  return row
}

export function listMyEmails(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  const { agg } = requireSession(ctx, actor, sid)
  return agg.emails.map(toEmailAddressResource)
}

export const getMyEmail = (ctx: EnvContext, actor: ClientActor, sid: string | null, id: string) =>
  toEmailAddressResource(ownEmail(ctx, requireSession(ctx, actor, sid).agg.user.id, id))

/** A new address starts unverified; it cannot sign in until a challenge verifies it. */
export function addMyEmail(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  input: { email_address: string },
) {
  const { agg } = requireSession(ctx, actor, sid)
  if (!ctx.settings().identifiers.email_address.enabled)
    throw formError(
      'form_param_unknown',
      'email_address',
      'is not enabled',
      'Email addresses are not enabled.',
    )
  const address = normalizeEmail(input.email_address)
  return withTx(ctx, (tx) => {
    if (
      tx
        .select({ id: emailAddresses.id })
        .from(emailAddresses)
        .where(eq(emailAddresses.emailAddress, address))
        .get()
    ) {
      throw formIdentifierExists('email_address')
    }
    const now = ctx.clock.now()
    const row: EmailAddressRow = {
      id: newId('emailAddress'),
      userId: agg.user.id,
      emailAddress: address,
      verified: false,
      verificationStrategy: null,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(emailAddresses).values(row).run()
    return toEmailAddressResource(row)
  })
}

export function deleteMyEmail(ctx: EnvContext, actor: ClientActor, sid: string | null, id: string) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownEmail(ctx, agg.user.id, id)
  if (agg.user.primaryEmailAddressId === row.id) {
    throw new AppError(400, [
      {
        code: 'identification_deletion_failed',
        message: 'primary address',
        long_message: 'Make another address primary before deleting this one.',
      },
    ])
  }
  withTx(ctx, (tx) => tx.delete(emailAddresses).where(eq(emailAddresses.id, row.id)).run())
  return { object: 'email_address' as const, id: row.id, deleted: true as const }
}

export function issueEmailChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  input: { strategy: string; redirect_url?: string },
) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownEmail(ctx, agg.user.id, id)
  if (row.verified)
    throw new AppError(400, [
      {
        code: 'verification_already_verified',
        message: 'already verified',
        long_message: 'This address is already verified.',
      },
    ])
  const base = {
    parentType: 'email_address' as const,
    parentId: row.id,
    step: 'verification' as const,
    strategy: input.strategy,
    clientId: actor.client?.id ?? null,
  }
  const target = { id: row.id, value: row.emailAddress }
  const c = withTx(ctx, (tx, after) => {
    if (input.strategy === 'email_code')
      return issueCodeChallenge(tx, ctx, after, {
        ...base,
        target,
        channel: 'email',
        template: 'verification_code',
      })
    if (input.strategy === 'email_link') {
      if (!input.redirect_url) throw formParamMissing('redirect_url')
      assertAllowedRedirect(ctx, input.redirect_url, actor.frontendUrl)
      return issueLinkChallenge(tx, ctx, after, {
        ...base,
        target,
        redirectUrl: input.redirect_url,
        frontendUrl: actor.frontendUrl,
        template: 'magic_link_user_profile',
      })
    }
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is invalid',
      'Verify an email address with email_code or email_link.',
    )
  })
  return toChallengeResource(c, ctx.clock.now())
}

export function getEmailChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  cid: string,
) {
  const row = ownEmail(ctx, requireSession(ctx, actor, sid).agg.user.id, id)
  const c = requireChallenge(ctx, 'email_address', row.id, cid)
  return toChallengeResource(c, ctx.clock.now())
}

/** `{code}` for email_code; for email_link an empty body reports whether the link was opened. */
export function answerEmailChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  cid: string,
  input: { code?: string },
) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownEmail(ctx, agg.user.id, id)
  const c = requireChallenge(ctx, 'email_address', row.id, cid)
  if (c.strategy === 'email_link') {
    if (c.status !== 'verified')
      throw new AppError(400, [
        {
          code: 'verification_not_complete',
          message: 'not opened yet',
          long_message: 'Open the link in the email first.',
        },
      ])
    return toEmailAddressResource(ownEmail(ctx, agg.user.id, id))
  }
  if (input.code === undefined) throw formParamMissing('code')
  answerWithCode(ctx, c, input.code, (tx) => markEmailVerified(tx, ctx, row.id, c.strategy))
  return toEmailAddressResource(ownEmail(ctx, agg.user.id, id))
}

export function markEmailVerified(
  tx: Parameters<Parameters<typeof withTx>[1]>[0],
  ctx: EnvContext,
  emailId: string,
  strategy: string,
) {
  const now = ctx.clock.now()
  tx.update(emailAddresses)
    .set({ verified: true, verificationStrategy: strategy, updatedAt: now })
    .where(eq(emailAddresses.id, emailId))
    .run()
  const row = tx.select().from(emailAddresses).where(eq(emailAddresses.id, emailId)).get()
  if (row) {
    enrollVerifiedEmail(tx, ctx, row.userId, row.emailAddress)
    const user = tx.select().from(users).where(eq(users.id, row.userId)).get()
    if (user && !user.primaryEmailAddressId)
      tx.update(users)
        .set({ primaryEmailAddressId: row.id, updatedAt: now })
        .where(eq(users.id, user.id))
        .run()
  }
}

// ---- phone numbers ------------------------------------------------------------------------

function ownPhone(ctx: EnvContext, userId: string, id: string): PhoneNumberRow {
  const row = isId('phoneNumber', id)
    ? ctx.db
        .select()
        .from(phoneNumbers)
        .where(and(eq(phoneNumbers.id, id), eq(phoneNumbers.userId, userId)))
        .get()
    : undefined
  if (!row) throw notFound('phone number')
  return row
}

export function listMyPhones(ctx: EnvContext, actor: ClientActor, sid: string | null) {
  return requireSession(ctx, actor, sid).agg.phones.map(toPhoneNumberResource)
}

export const getMyPhone = (ctx: EnvContext, actor: ClientActor, sid: string | null, id: string) =>
  toPhoneNumberResource(ownPhone(ctx, requireSession(ctx, actor, sid).agg.user.id, id))

export function addMyPhone(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  input: { phone_number: string },
) {
  const { agg } = requireSession(ctx, actor, sid)
  if (!ctx.settings().identifiers.phone_number.enabled)
    throw formError('form_param_unknown', 'phone_number', 'is not enabled', 'Phone numbers are not enabled.')
  const number = normalizePhone(input.phone_number)
  return withTx(ctx, (tx) => {
    if (
      tx.select({ id: phoneNumbers.id }).from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, number)).get()
    ) {
      throw formIdentifierExists('phone_number')
    }
    const now = ctx.clock.now()
    const row: PhoneNumberRow = {
      id: newId('phoneNumber'),
      userId: agg.user.id,
      phoneNumber: number,
      verified: false,
      verificationStrategy: null,
      reservedForSecondFactor: false,
      defaultSecondFactor: false,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(phoneNumbers).values(row).run()
    return toPhoneNumberResource(row)
  })
}

export function updateMyPhone(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  input: { is_primary?: boolean; reserved_for_second_factor?: boolean; default_second_factor?: boolean },
) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownPhone(ctx, agg.user.id, id)
  const needsVerified = input.is_primary || input.reserved_for_second_factor || input.default_second_factor
  if (needsVerified && !row.verified) {
    throw new AppError(400, [
      {
        code: 'phone_number_not_verified',
        message: 'not verified',
        long_message: 'Verify this number first.',
      },
    ])
  }
  if (input.default_second_factor && !(input.reserved_for_second_factor ?? row.reservedForSecondFactor)) {
    throw formError(
      'form_param_value_invalid',
      'default_second_factor',
      'needs a second-factor number',
      'Only a number reserved for second factor can be the default one.',
    )
  }
  if (input.is_primary === false && agg.user.primaryPhoneNumberId === row.id) {
    throw formError(
      'form_param_value_invalid',
      'is_primary',
      'cannot be unset',
      'Make another number primary instead.',
    )
  }
  withTx(ctx, (tx) => {
    const now = ctx.clock.now()
    const set: Partial<PhoneNumberRow> = { updatedAt: now }
    if (input.reserved_for_second_factor !== undefined)
      set.reservedForSecondFactor = input.reserved_for_second_factor
    if (input.default_second_factor !== undefined) set.defaultSecondFactor = input.default_second_factor
    if (input.reserved_for_second_factor === false) set.defaultSecondFactor = false
    if (set.defaultSecondFactor) {
      tx.update(phoneNumbers)
        .set({ defaultSecondFactor: false })
        .where(eq(phoneNumbers.userId, agg.user.id))
        .run()
    }
    tx.update(phoneNumbers).set(set).where(eq(phoneNumbers.id, row.id)).run()
    if (input.is_primary)
      tx.update(users)
        .set({ primaryPhoneNumberId: row.id, updatedAt: now })
        .where(eq(users.id, agg.user.id))
        .run()
  })
  return toPhoneNumberResource(ownPhone(ctx, agg.user.id, id))
}

export function deleteMyPhone(ctx: EnvContext, actor: ClientActor, sid: string | null, id: string) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownPhone(ctx, agg.user.id, id)
  if (row.reservedForSecondFactor) {
    throw new AppError(400, [
      {
        code: 'phone_number_reserved_for_second_factor',
        message: 'reserved for second factor',
        long_message: 'Stop using this number as a second factor before removing it.',
      },
    ])
  }
  withTx(ctx, (tx) => {
    tx.delete(phoneNumbers).where(eq(phoneNumbers.id, row.id)).run()
    if (agg.user.primaryPhoneNumberId === row.id) {
      tx.update(users)
        .set({ primaryPhoneNumberId: null, updatedAt: ctx.clock.now() })
        .where(eq(users.id, agg.user.id))
        .run()
    }
  })
  return { object: 'phone_number' as const, id: row.id, deleted: true as const }
}

export function issuePhoneChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  input: { strategy?: string },
) {
  const row = ownPhone(ctx, requireSession(ctx, actor, sid).agg.user.id, id)
  if ((input.strategy ?? 'phone_code') !== 'phone_code')
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is invalid',
      'Verify a phone number with phone_code.',
    )
  if (row.verified)
    throw new AppError(400, [
      {
        code: 'verification_already_verified',
        message: 'already verified',
        long_message: 'This number is already verified.',
      },
    ])
  const c = withTx(ctx, (tx, after) =>
    issueCodeChallenge(tx, ctx, after, {
      parentType: 'phone_number',
      parentId: row.id,
      step: 'verification',
      strategy: 'phone_code',
      clientId: actor.client?.id ?? null,
      target: { id: row.id, value: row.phoneNumber },
      channel: 'sms',
      template: 'verification_code',
    }),
  )
  return toChallengeResource(c, ctx.clock.now())
}

export function getPhoneChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  cid: string,
) {
  const row = ownPhone(ctx, requireSession(ctx, actor, sid).agg.user.id, id)
  const c = requireChallenge(ctx, 'phone_number', row.id, cid)
  return toChallengeResource(c, ctx.clock.now())
}

export function answerPhoneChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  sid: string | null,
  id: string,
  cid: string,
  input: { code?: string },
) {
  const { agg } = requireSession(ctx, actor, sid)
  const row = ownPhone(ctx, agg.user.id, id)
  const c = requireChallenge(ctx, 'phone_number', row.id, cid)
  if (input.code === undefined) throw formParamMissing('code')
  answerWithCode(ctx, c, input.code, (tx) => {
    const now = ctx.clock.now()
    tx.update(phoneNumbers)
      .set({ verified: true, verificationStrategy: 'phone_code', updatedAt: now })
      .where(eq(phoneNumbers.id, row.id))
      .run()
    if (!agg.user.primaryPhoneNumberId)
      tx.update(users)
        .set({ primaryPhoneNumberId: row.id, updatedAt: now })
        .where(eq(users.id, agg.user.id))
        .run()
  })
  return toPhoneNumberResource(ownPhone(ctx, agg.user.id, id))
}
