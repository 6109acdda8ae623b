import type { UserAggregate } from '../../domain/users/serialize'
import { formError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { InstanceSettings } from '../../tenancy/settings'
import { backupCode } from './backup-code'
import { emailCode, emailCodeVerifier } from './email-code'
import { emailLink, emailLinkVerifier } from './email-link'
import { enterpriseSso } from './enterprise-sso'
import type { CodeShapedFactor } from './local-code'
import { password } from './password'
import { phoneCode, phoneCodeVerifier } from './phone-code'
import { phoneCodeSecond } from './phone-code-second'
import { resetPasswordEmailCode } from './reset-password-email-code'
import { resetPasswordPhoneCode } from './reset-password-phone-code'
import { ticket } from './ticket'
import { totp } from './totp'
import type { Factor, FactorKind, FactorOption, IdentifierVerifier } from './types'

/** The password factor: sign-up collects a password when it is enabled. */
export { password as passwordFactor } from './password'
/** The ticket factor: an invitation at sign-up verifies the invited address by it. */
export { ticket as ticketFactor } from './ticket'
export type * from './types'

/**
 * The registry. The order is the order options are listed in (supported_first_factors,
 * supported_second_factors). A new way to sign in is a new module here; the machines need no
 * change.
 */
export const FACTORS: readonly Factor[] = [
  password,
  emailCode,
  emailLink,
  phoneCode,
  resetPasswordEmailCode,
  resetPasswordPhoneCode,
  ticket,
  totp,
  phoneCodeSecond,
  backupCode,
  enterpriseSso,
]

/**
 * Factors an env adds from its own configuration (a social provider, an enterprise connection):
 * each source lists the env's redirect factors. Capabilities register their source at start.
 */
export type FactorSource = (ctx: EnvContext) => readonly Factor[]
const sources: FactorSource[] = []

/** Adds a source of per-env factors; the returned function removes it again. */
export function registerFactorSource(source: FactorSource): () => void {
  sources.push(source)
  return () => {
    const i = sources.indexOf(source)
    if (i !== -1) sources.splice(i, 1)
  }
}

/** Every factor of this env: the built-in ones, then those its configuration adds. */
export const factorsOf = (ctx: EnvContext): readonly Factor[] =>
  sources.length ? [...FACTORS, ...sources.flatMap((source) => source(ctx))] : FACTORS

/** Factors that verify an email address or phone number (sign-up, profile). */
export const VERIFIERS: readonly IdentifierVerifier[] = [
  emailCodeVerifier,
  emailLinkVerifier,
  phoneCodeVerifier,
]

/** The env's factor of that strategy serving one of these kinds. */
export const factorFor = (
  ctx: EnvContext,
  strategy: string,
  kinds: readonly FactorKind[],
): Factor | undefined => factorsOf(ctx).find((f) => f.strategy === strategy && kinds.includes(f.kind))

/**
 * The first factor that is the only way in for this user or identifier (enforced enterprise
 * SSO), if any: every other first and reset factor is hidden and refused.
 */
export const exclusiveFactor = (
  ctx: EnvContext,
  user: UserAggregate | null,
  identifier: string | null,
): Factor | undefined =>
  factorsOf(ctx).find((f) => f.kind === 'first' && (f.exclusive?.(ctx, user, identifier) ?? false))

/** Is the factor hidden because another one is the only way in here? */
export const shadowedBy = (
  ctx: EnvContext,
  factor: Factor,
  user: UserAggregate | null,
  identifier: string | null,
): Factor | undefined => {
  if (factor.kind === 'second') return undefined
  const only = exclusiveFactor(ctx, user, identifier)
  return only && only !== factor ? only : undefined
}

/** What the user may sign in with: first factors, then the reset codes. */
export const firstFactorOptions = (
  ctx: EnvContext,
  user: UserAggregate,
  identifier: string | null = null,
): FactorOption[] => {
  const only = exclusiveFactor(ctx, user, identifier)
  return factorsOf(ctx)
    .filter((f) => f.kind !== 'second' && (!only || f === only))
    .flatMap((f) => f.options(ctx, user))
}

/** The user's enrolled second factors that the env accepts. */
export const secondFactorOptions = (ctx: EnvContext, user: UserAggregate): FactorOption[] =>
  factorsOf(ctx)
    .filter((f) => f.kind === 'second')
    .flatMap((f) => f.options(ctx, user))

/**
 * Options for an identifier that matches no user, when enumeration protection is on: the same
 * shape a user with that one identifier and a password would get (and what anyone may use).
 */
export const decoyOptions = (ctx: EnvContext, identifier: string): FactorOption[] => {
  const only = exclusiveFactor(ctx, null, identifier)
  return factorsOf(ctx)
    .filter((f) => f.kind !== 'second' && (!only || f === only))
    .flatMap((f) => f.decoyOptions?.(ctx, identifier) ?? f.anonymousOptions?.(ctx) ?? [])
}

/**
 * A redirect factor that finds or provisions the user itself takes this identifier even though
 * nobody owns it (an email domain routed to an enterprise IdP: JIT sign-in).
 */
export const findsUserFor = (ctx: EnvContext, identifier: string): Factor | undefined =>
  factorsOf(ctx).find(
    (f) => f.kind === 'first' && f.answer === 'redirect' && !!f.decoyOptions?.(ctx, identifier).length,
  )

/** Has the user any second factor at all, whatever the env accepts (the `setup-mfa` task)? */
export const hasSecondFactor = (user: UserAggregate) => FACTORS.some((f) => f.enrolled?.(user) ?? false)

/** The factor a create request identifies its user with by itself (a ticket), if any. */
export const identifyingFactor = (ctx: EnvContext, input: { ticket?: string; strategy?: string }) => {
  for (const f of factorsOf(ctx)) {
    const identified = f.identify?.(ctx, input)
    if (identified) return identified
  }
  return null
}

/** The factor whose challenge may be answered without being issued (`cid` names it). */
export const implicitFactor = (ctx: EnvContext, strategy: string) =>
  factorsOf(ctx).find((f) => f.implicit && f.strategy === strategy)

/** The factor that issued a challenge (the redirect factor a callback's state belongs to). */
export const factorOfStrategy = (ctx: EnvContext, strategy: string): Factor | undefined =>
  factorsOf(ctx).find((f) => f.strategy === strategy && f.kind === 'first')

/** Second factors that recognise a code by its shape (an operator checks a code for a user). */
export const codeShapedFactors = FACTORS.filter((f): f is CodeShapedFactor => 'shape' in f && 'consume' in f)

/** The verifiers of one kind of identifier offered under these settings. */
export const verifiersFor = (
  settings: InstanceSettings,
  identifier: IdentifierVerifier['verifies'],
  purpose: 'sign_up' | 'profile',
) => VERIFIERS.filter((v) => v.verifies === identifier && v.enabled(settings, purpose))

export function verifierFor(
  settings: InstanceSettings,
  identifier: IdentifierVerifier['verifies'],
  purpose: 'sign_up' | 'profile',
  strategy: string,
): IdentifierVerifier {
  const all = verifiersFor(settings, identifier, purpose)
  const v = all.find((x) => x.strategy === strategy)
  if (!v) {
    const label = identifier === 'email_address' ? 'an email address' : 'a phone number'
    throw formError(
      'verification_strategy_invalid',
      'strategy',
      'is invalid',
      `Verify ${label} with ${all.map((x) => x.strategy).join(' or ')}.`,
    )
  }
  return v
}

/** The strategy a verified identifier records when nothing verified it (an unverified sign-up address). */
export const defaultVerification = (identifier: IdentifierVerifier['verifies']) =>
  VERIFIERS.find((v) => v.verifies === identifier)!.strategy

/** Does the env enable this factor (its strategy in first_factors or second_factors)? */
export const factorEnabled = (settings: InstanceSettings, factor: Factor) =>
  (factor.kind === 'second'
    ? (settings.second_factors as string[])
    : (settings.first_factors as string[])
  ).includes(factor.strategy)
