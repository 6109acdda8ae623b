import { withTx } from '../../db/tx'
import type { ChallengeRow } from '../../domain/challenges/schema'
import { answerWithCode, requireChallenge, toChallengeResource } from '../../domain/challenges/service'
import type { ClientActor } from '../../domain/clients/service'
import { enrollVerifiedEmail } from '../../domain/organizations/enrollment'
import { assertNotScimAddress } from '../../domain/scim/managed'
import {
  addContact,
  CONTACT_KINDS,
  type ContactKind,
  contactResource,
  markContactVerified,
  type PhoneFlags,
  removeContact,
  requireOwnContact,
  updatePhoneFlags,
} from '../../domain/users/contacts'
import { toEmailAddressResource, toPhoneNumberResource } from '../../domain/users/serialize'
import { AppError, formError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { defaultVerification, type PrepareInput, VERIFIERS, verifierFor } from '../factors'
import type { SignedIn } from './signed-in'

/**
 * The signed-in user's email addresses and phone numbers (`/v1/me/email-addresses`,
 * `/v1/me/phone-numbers`): one flow for both kinds. Verifying goes through the registry's
 * verifiers; a verified address may enroll the user in organizations by domain.
 */

const ALREADY_VERIFIED = {
  email_address: 'This address is already verified.',
  phone_number: 'This number is already verified.',
} as const

const NOT_ENABLED = {
  email_address: 'Email addresses are not enabled.',
  phone_number: 'Phone numbers are not enabled.',
} as const

export const listContacts = (_ctx: EnvContext, { user }: SignedIn, kind: ContactKind) =>
  kind === 'email_address' ? user.emails.map(toEmailAddressResource) : user.phones.map(toPhoneNumberResource)

export const getContact = <K extends ContactKind>(ctx: EnvContext, { user }: SignedIn, kind: K, id: string) =>
  contactResource(ctx.db, kind, requireOwnContact(ctx.db, kind, user.user.id, id).id)

/** A new address or number starts unverified: it cannot sign in until a challenge verifies it. */
export function addMyContact<K extends ContactKind>(
  ctx: EnvContext,
  { user }: SignedIn,
  kind: K,
  raw: string,
) {
  if (!ctx.settings().identifiers[CONTACT_KINDS[kind].setting].enabled)
    throw formError('form_param_unknown', kind, 'is not enabled', NOT_ENABLED[kind])
  const value = CONTACT_KINDS[kind].normalize(raw)
  return withTx(ctx, (tx) => addContact(tx, ctx, kind, user.user.id, value))
}

export function deleteMyContact(ctx: EnvContext, { user }: SignedIn, kind: ContactKind, id: string) {
  const row = requireOwnContact(ctx.db, kind, user.user.id, id)
  if (kind === 'email_address') assertNotScimAddress(ctx, user.user.id, row.id)
  return withTx(ctx, (tx) => removeContact(tx, ctx, kind, row))
}

export function updateMyPhone(ctx: EnvContext, { user }: SignedIn, id: string, input: PhoneFlags) {
  const row = requireOwnContact(ctx.db, 'phone_number', user.user.id, id)
  return withTx(ctx, (tx) => updatePhoneFlags(tx, ctx, row, input))
}

export function issueContactChallenge(
  ctx: EnvContext,
  actor: ClientActor,
  { user }: SignedIn,
  kind: ContactKind,
  id: string,
  input: PrepareInput & { strategy?: string },
) {
  const row = requireOwnContact(ctx.db, kind, user.user.id, id)
  if (row.verified)
    throw new AppError(400, [
      {
        code: 'verification_already_verified',
        message: 'already verified',
        long_message: ALREADY_VERIFIED[kind],
      },
    ])
  const verifier = verifierFor(ctx.settings(), kind, 'profile', input.strategy ?? defaultVerification(kind))
  verifier.validatePrepare?.(ctx, actor, input)
  const c = withTx(ctx, (tx, after) =>
    verifier.prepareVerification({
      tx,
      ctx,
      after,
      actor,
      parent: { type: kind, id: row.id, clientId: actor.client?.id ?? null },
      target: { id: row.id, value: row.value },
      purpose: 'profile',
      redirectUrl: input.redirect_url,
    }),
  )
  return toChallengeResource(c, ctx.clock.now())
}

export function getContactChallenge(
  ctx: EnvContext,
  { user }: SignedIn,
  kind: ContactKind,
  id: string,
  cid: string,
) {
  const row = requireOwnContact(ctx.db, kind, user.user.id, id)
  return toChallengeResource(requireChallenge(ctx, kind, row.id, cid), ctx.clock.now())
}

/** Verifies the identifier; a verified address enrolls the user in organizations by domain. */
function verifyContact(tx: EnvTx, ctx: EnvContext, kind: ContactKind, id: string, strategy: string) {
  const row = markContactVerified(tx, ctx, kind, id, strategy)
  if (row && kind === 'email_address') enrollVerifiedEmail(tx, ctx, row.userId, row.value)
}

/** `{code}` for a code; for a link an empty body reports whether it was opened. */
export function answerContactChallenge<K extends ContactKind>(
  ctx: EnvContext,
  { user }: SignedIn,
  kind: K,
  id: string,
  cid: string,
  input: { code?: string },
) {
  const row = requireOwnContact(ctx.db, kind, user.user.id, id)
  const c = requireChallenge(ctx, kind, row.id, cid)
  const verifier = VERIFIERS.find((v) => v.strategy === c.strategy)
  if (verifier?.answer === 'link') {
    if (c.status !== 'verified')
      throw new AppError(400, [
        {
          code: 'verification_not_complete',
          message: 'not opened yet',
          long_message: 'Open the link in the email first.',
        },
      ])
    return contactResource(ctx.db, kind, row.id)
  }
  if (input.code === undefined) throw formParamMissing('code')
  answerWithCode(ctx, c, input.code, (tx) => verifyContact(tx, ctx, kind, row.id, c.strategy))
  return contactResource(ctx.db, kind, row.id)
}

/** A profile address's magic link was opened (src/flows/links.ts). */
export const verifyContactByLink = (tx: EnvTx, ctx: EnvContext, challenge: ChallengeRow) =>
  verifyContact(tx, ctx, 'email_address', challenge.parentId, challenge.strategy)
