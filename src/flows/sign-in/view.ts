import { challengeResourceById } from '../../domain/challenges/service'
import type { SignInRow } from '../../domain/sign-ins/schema'
import { findSignIn } from '../../domain/sign-ins/store'
import { findUser } from '../../domain/users/service'
import type { EnvContext } from '../../tenancy/context'
import { decoyOptions, firstFactorOptions, secondFactorOptions } from '../factors'

export function supportedIdentifiers(ctx: EnvContext): string[] {
  const ids = ctx.settings().identifiers
  return (['email_address', 'phone_number', 'username'] as const).filter(
    (k) => ids[k].enabled && ids[k].used_for_first_factor,
  )
}

/** The sign-in as the Frontend API shows it (`sign_in_attempt`). */
export function toSignInResource(ctx: EnvContext, s: SignInRow) {
  const now = ctx.clock.now()
  const user = s.userId ? findUser(ctx, s.userId) : null
  const status =
    s.status !== 'complete' && s.status !== 'abandoned' && now >= s.abandonAt ? 'abandoned' : s.status
  const first = user
    ? firstFactorOptions(ctx, user, s.identifier)
    : s.identifier && s.status === 'needs_first_factor'
      ? decoyOptions(ctx, s.identifier)
      : []
  return {
    object: 'sign_in_attempt' as const,
    id: s.id,
    status,
    identifier: s.identifier,
    supported_identifiers: supportedIdentifiers(ctx),
    supported_first_factors: s.status === 'needs_first_factor' ? first : [],
    supported_second_factors:
      s.status === 'needs_second_factor' && user ? secondFactorOptions(ctx, user) : [],
    first_factor_verification: challengeResourceById(ctx, s.firstFactorChallengeId),
    second_factor_verification: challengeResourceById(ctx, s.secondFactorChallengeId),
    user_data:
      user && s.status !== 'needs_first_factor'
        ? {
            first_name: user.user.firstName,
            last_name: user.user.lastName,
            image_url: user.user.imageUrl,
            has_image: user.user.imageUrl !== null,
          }
        : null,
    created_session_id: s.createdSessionId,
    abandon_at: s.abandonAt,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  }
}
export type SignInResource = ReturnType<typeof toSignInResource>

export function signInResourceById(ctx: EnvContext, id: string): SignInResource | null {
  const row = findSignIn(ctx.db, id)
  return row ? toSignInResource(ctx, row) : null
}
