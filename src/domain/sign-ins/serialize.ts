import { eq } from 'drizzle-orm'
import type { EnvContext } from '../../tenancy/context'
import { challenges } from '../challenges/schema'
import { toChallengeResource } from '../challenges/service'
import { findUser } from '../users/service'
import { decoyFactorsFor, firstFactorsFor, secondFactorsFor } from './factors'
import { type SignInRow, signIns } from './schema'

function challengeOf(ctx: EnvContext, id: string | null) {
  if (!id) return null
  const c = ctx.db.select().from(challenges).where(eq(challenges.id, id)).get()
  return c ? toChallengeResource(c, ctx.clock.now()) : null
}

export function supportedIdentifiers(ctx: EnvContext): string[] {
  const ids = ctx.settings().identifiers
  return (['email_address', 'phone_number', 'username'] as const).filter(
    (k) => ids[k].enabled && ids[k].used_for_first_factor,
  )
}

export function toSignInResource(ctx: EnvContext, s: SignInRow) {
  const now = ctx.clock.now()
  const agg = s.userId ? findUser(ctx, s.userId) : null
  const status =
    s.status !== 'complete' && s.status !== 'abandoned' && now >= s.abandonAt ? 'abandoned' : s.status
  const first = agg
    ? firstFactorsFor(ctx, agg)
    : s.identifier && s.status === 'needs_first_factor'
      ? decoyFactorsFor(ctx, s.identifier)
      : []
  return {
    object: 'sign_in_attempt' as const,
    id: s.id,
    status,
    identifier: s.identifier,
    supported_identifiers: supportedIdentifiers(ctx),
    supported_first_factors: s.status === 'needs_first_factor' ? first : [],
    supported_second_factors: s.status === 'needs_second_factor' && agg ? secondFactorsFor(ctx, agg) : [],
    first_factor_verification: challengeOf(ctx, s.firstFactorChallengeId),
    second_factor_verification: challengeOf(ctx, s.secondFactorChallengeId),
    user_data:
      agg && s.status !== 'needs_first_factor'
        ? {
            first_name: agg.user.firstName,
            last_name: agg.user.lastName,
            image_url: agg.user.imageUrl,
            has_image: agg.user.imageUrl !== null,
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
  const row = ctx.db.select().from(signIns).where(eq(signIns.id, id)).get()
  return row ? toSignInResource(ctx, row) : null
}
