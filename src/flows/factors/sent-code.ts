import {
  codeMatches,
  issueCodeChallenge,
  issueDecoyChallenge,
  maskIdentifier,
} from '../../domain/challenges/service'
import type { UserAggregate } from '../../domain/users/serialize'
import type { EnvContext } from '../../tenancy/context'
import { codeIncorrect, decoyId, isEmailIdentifier, requireCode, stepOf } from './shared'
import type { Factor, FactorKind, FactorOption, IdentifierVerifier } from './types'

/** An email address or phone number a code can go to. */
export interface CodeTarget {
  id: string
  value: string
  primary: boolean
}

/** A verified identifier of the user, by channel. */
export const verifiedEmails = (user: UserAggregate): CodeTarget[] =>
  user.emails
    .filter((e) => e.verified)
    .map((e) => ({ id: e.id, value: e.emailAddress, primary: e.id === user.user.primaryEmailAddressId }))

export const verifiedPhones = (user: UserAggregate, filter: (reserved: boolean) => boolean = () => true) =>
  user.phones
    .filter((p) => p.verified && filter(p.reservedForSecondFactor))
    .map((p) => ({
      id: p.id,
      value: p.phoneNumber,
      primary: p.id === user.user.primaryPhoneNumberId,
      default: p.defaultSecondFactor,
    }))

/**
 * A factor proven by a 6-digit code sent to one of the user's identifiers (email_code,
 * phone_code, the reset codes): each module states only what differs.
 */
export function sentCodeFactor(spec: {
  strategy: string
  kind: FactorKind
  channel: 'email' | 'sms'
  template: 'verification_code' | 'reset_password_code'
  stepUp: boolean
  /** The identifiers the code may go to, under the env's settings. */
  targets(ctx: EnvContext, user: UserAggregate): CodeTarget[]
  /** Whether a decoy of this factor is shown for an unknown identifier. */
  decoy?(ctx: EnvContext, identifier: string): boolean
}): Factor {
  const idField = spec.channel === 'email' ? 'email_address_id' : 'phone_number_id'
  const option = (t: { id: string; value: string; primary: boolean }): FactorOption => ({
    strategy: spec.strategy,
    safe_identifier: maskIdentifier(t.value),
    [idField]: t.id,
    primary: t.primary,
  })
  return {
    strategy: spec.strategy,
    kind: spec.kind,
    answer: 'code',
    stepUp: spec.stepUp,
    options: (ctx, user) => spec.targets(ctx, user).map(option),
    decoyOptions: (ctx, identifier) =>
      spec.decoy?.(ctx, identifier)
        ? [option({ id: decoyId(ctx, identifier), value: identifier, primary: true })]
        : [],
    prepare({ tx, ctx, after, parent, option: picked, user, identifier }) {
      const base = {
        parentType: parent.type,
        parentId: parent.id,
        clientId: parent.clientId,
        step: stepOf(spec.kind),
        strategy: spec.strategy,
      }
      // Enumeration protection: behave as if sending, to an address nobody owns.
      if (!user) return { challenge: issueDecoyChallenge(tx, ctx, base, identifier ?? '') }
      const target = spec.targets(ctx, user).find((t) => t.id === picked[idField])!
      return {
        challenge: issueCodeChallenge(tx, ctx, after, {
          ...base,
          target: { id: target.id, value: target.value },
          channel: spec.channel,
          template: spec.template,
        }),
      }
    },
    precheck: async ({ input }) => {
      requireCode(input.code)
      return null
    },
    check: (_tx, { challenge, input }) => codeMatches(challenge, input.code ?? ''),
    wrongAnswer: codeIncorrect,
  }
}

export const emailIdentifier = (identifier: string) => isEmailIdentifier(identifier)

type IdentifierKind = 'email_address' | 'phone_number'

/**
 * A first factor that sends to one kind of identifier: offered while that identifier and the
 * strategy are enabled, to the user's verified identifiers of the kind (and, as a decoy, to an
 * unknown identifier of that kind).
 */
export function firstFactorTargets(
  strategy: string,
  kind: IdentifierKind,
  targets: (user: UserAggregate) => CodeTarget[],
): Pick<Parameters<typeof sentCodeFactor>[0], 'targets' | 'decoy'> {
  const on = (ctx: EnvContext) => {
    const s = ctx.settings()
    return s.identifiers[kind].enabled && (s.first_factors as string[]).includes(strategy)
  }
  return {
    targets: (ctx, user) => (on(ctx) ? targets(user) : []),
    decoy: (ctx, identifier) => emailIdentifier(identifier) === (kind === 'email_address') && on(ctx),
  }
}

/** Verifies an identifier of one kind with a 6-digit code sent to it (sign-up, profile). */
export const codeVerifier = (strategy: string, verifies: IdentifierKind): IdentifierVerifier => ({
  strategy,
  verifies,
  answer: 'code',
  enabled: () => true,
  prepareVerification: ({ tx, ctx, after, parent, target }) =>
    issueCodeChallenge(tx, ctx, after, {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'verification',
      strategy,
      target,
      channel: verifies === 'email_address' ? 'email' : 'sms',
      template: 'verification_code',
    }),
})
