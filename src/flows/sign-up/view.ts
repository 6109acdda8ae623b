import {
  challengeResourceById,
  latestRedirectChallenge,
  toChallengeResource,
} from '../../domain/challenges/service'
import type { SignUpRow } from '../../domain/sign-ups/schema'
import { findSignUp } from '../../domain/sign-ups/store'
import type { EnvContext } from '../../tenancy/context'
import { factorEnabled, passwordFactor, verifiersFor } from '../factors'

type Field = 'email_address' | 'phone_number' | 'username' | 'password' | 'first_name' | 'last_name'

/** The fields the env asks for at sign-up, required and optional. */
export function fieldsOf(ctx: EnvContext) {
  const s = ctx.settings()
  const required: Field[] = []
  const optional: Field[] = []
  const place = (f: Field, enabled: boolean, req: boolean) =>
    req ? required.push(f) : enabled ? optional.push(f) : undefined
  place('email_address', s.identifiers.email_address.enabled, s.identifiers.email_address.required)
  place('phone_number', s.identifiers.phone_number.enabled, s.identifiers.phone_number.required)
  place('username', s.identifiers.username.enabled, s.identifiers.username.required)
  place('password', factorEnabled(s, passwordFactor), s.password.required)
  place('first_name', s.names.first_name !== 'off', s.names.first_name === 'required')
  place('last_name', s.names.last_name !== 'off', s.names.last_name === 'required')
  return { required, optional }
}

/** What is still missing or unverified; the sign-up completes when both are empty. */
export function progress(ctx: EnvContext, r: SignUpRow) {
  const s = ctx.settings()
  const { required, optional } = fieldsOf(ctx)
  const has: Record<Field, boolean> = {
    email_address: r.emailAddress !== null,
    phone_number: r.phoneNumber !== null,
    username: r.username !== null,
    password: r.passwordDigest !== null,
    first_name: r.firstName !== null,
    last_name: r.lastName !== null,
  }
  const missing = required.filter((f) => !has[f])
  // Someone must be able to sign in later: at least one identifier.
  if (!has.email_address && !has.phone_number && !has.username && !missing.length) {
    missing.push(
      s.identifiers.email_address.enabled
        ? 'email_address'
        : s.identifiers.phone_number.enabled
          ? 'phone_number'
          : 'username',
    )
  }
  const unverified: Field[] = []
  if (has.email_address && s.identifiers.email_address.verify_at_sign_up && !r.emailVerified)
    unverified.push('email_address')
  if (has.phone_number && s.identifiers.phone_number.verify_at_sign_up && !r.phoneVerified)
    unverified.push('phone_number')
  return { required, optional, missing, unverified }
}

function verificationOf(
  ctx: EnvContext,
  verified: boolean,
  challengeId: string | null,
  strategies: string[],
) {
  const challenge = challengeResourceById(ctx, challengeId)
  return {
    status: verified ? 'verified' : (challenge?.status ?? 'unverified'),
    strategy: challenge?.strategy ?? null,
    supported_strategies: strategies,
    next_action: verified ? '' : challenge ? 'needs_attempt' : 'needs_prepare',
    challenge,
  }
}

/** A sign-up started with a social strategy: the provider's verification (Clerk's `external_account`). */
function externalAccountOf(ctx: EnvContext, r: SignUpRow) {
  const c = latestRedirectChallenge(ctx.db, 'sign_up', r.id)
  if (!c) return null
  const challenge = toChallengeResource(c, ctx.clock.now())
  // The sign-up took the identity over itself: verified (transferable means someone has it).
  const taken = r.transferChallengeId === c.id
  return {
    status: taken ? 'verified' : challenge.status,
    strategy: c.strategy,
    external_verification_redirect_url: challenge.status === 'unverified' ? c.externalUrl : null,
    challenge,
  }
}

/** The sign-up as the Frontend API shows it (`sign_up_attempt`). */
export function toSignUpResource(ctx: EnvContext, r: SignUpRow) {
  const p = progress(ctx, r)
  const s = ctx.settings()
  const now = ctx.clock.now()
  const strategies = (identifier: 'email_address' | 'phone_number') =>
    verifiersFor(s, identifier, 'sign_up').map((v) => v.strategy)
  return {
    object: 'sign_up_attempt' as const,
    id: r.id,
    status: r.status === 'missing_requirements' && now >= r.abandonAt ? ('abandoned' as const) : r.status,
    required_fields: p.required,
    optional_fields: p.optional,
    missing_fields: r.status === 'complete' ? [] : p.missing,
    unverified_fields: r.status === 'complete' ? [] : p.unverified,
    verifications: {
      email_address: r.emailAddress
        ? verificationOf(ctx, r.emailVerified, r.emailChallengeId, strategies('email_address'))
        : null,
      phone_number: r.phoneNumber
        ? verificationOf(ctx, r.phoneVerified, r.phoneChallengeId, strategies('phone_number'))
        : null,
      external_account: externalAccountOf(ctx, r),
    },
    email_address: r.emailAddress,
    phone_number: r.phoneNumber,
    username: r.username,
    password_enabled: r.passwordDigest !== null,
    first_name: r.firstName,
    last_name: r.lastName,
    unsafe_metadata: r.unsafeMetadata,
    created_user_id: r.createdUserId,
    created_session_id: r.createdSessionId,
    abandon_at: r.abandonAt,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}
export type SignUpResource = ReturnType<typeof toSignUpResource>

export function signUpResourceById(ctx: EnvContext, id: string): SignUpResource | null {
  const row = findSignUp(ctx.db, id)
  return row ? toSignUpResource(ctx, row) : null
}
