import { isLive, liveClientSessions } from '../../domain/sessions/service'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'

/**
 * A device already signed in may not start another sign-in in single-session mode, nor sign the
 * same account in twice in multi-session mode.
 */
export function assertNoSessionConflict(tx: EnvTx, ctx: EnvContext, clientId: string, userId: string | null) {
  const now = ctx.clock.now()
  const live = liveClientSessions(tx, clientId).filter((s) => isLive(s, now))
  if (!live.length) return
  if (!ctx.settings().session.multi_session) {
    throw new AppError(400, [
      { code: 'session_exists', message: 'already signed in', long_message: 'You are already signed in.' },
    ])
  }
  if (userId && live.some((s) => s.userId === userId)) {
    throw new AppError(400, [
      {
        code: 'identifier_already_signed_in',
        message: 'already signed in',
        long_message: 'This account is already signed in on this device.',
      },
    ])
  }
}
