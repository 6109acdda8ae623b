import { type ClientActor, rotateClient, updateClientById } from '../domain/clients/service'
import type { SessionRow } from '../domain/sessions/schema'
import { createSession } from '../domain/sessions/service'
import { assertMaySignInNow, recordSignIn } from '../domain/users/lockout'
import type { UserAggregate } from '../domain/users/serialize'
import type { EnvContext } from '../tenancy/context'
import type { EnvTx } from '../tenancy/open'
import { hasSecondFactor } from './factors'

export interface EstablishOptions {
  /** Which factors were verified to get here (the session token's `fva`). */
  factorsVerified: { first: boolean; second: boolean }
  /** Tasks the session must finish before it is active; by default what the env requires. */
  tasks?: string[]
  /** How the person got in (the client's `last_authentication_strategy`). */
  strategy: string
  /**
   * The device that made the request, when it is the client being signed in: its token then
   * rotates (an old copy of the cookie stops working). A magic link opened on another device
   * completes the originating client without touching its token.
   */
  actor: ClientActor | null
}

/** Tasks a new session starts with: `setup-mfa` when the env requires a second factor the user lacks. */
export function sessionTasks(ctx: EnvContext, user: UserAggregate): string[] {
  return ctx.settings().second_factor_required && !hasSecondFactor(user) ? ['setup-mfa'] : []
}

/**
 * The one door every completed sign-in, sign-up, magic link and ticket (and later OAuth
 * callbacks and hosted pages) walks through, in the flow's transaction: the account's ban and
 * lock checked atomically, the session (single- or multi-session mode is decided by the
 * sessions capability), the sign-in stamp, and the client pointed at the new session.
 */
export function establishSession(
  tx: EnvTx,
  ctx: EnvContext,
  clientId: string,
  user: UserAggregate,
  opts: EstablishOptions,
): SessionRow {
  // Banned or locked now, in this transaction: not as of a check made before a hash ran.
  assertMaySignInNow(tx, ctx, user.user.id)
  const session = createSession(tx, ctx, {
    userId: user.user.id,
    clientId,
    factorsVerified: opts.factorsVerified,
    tasks: opts.tasks ?? sessionTasks(ctx, user),
    ip: opts.actor?.ip ?? null,
    userAgent: opts.actor?.userAgent ?? null,
  })
  recordSignIn(tx, ctx, user.user.id)
  const changes = { lastActiveSessionId: session.id, lastAuthenticationStrategy: opts.strategy }
  if (opts.actor?.client?.id === clientId) rotateClient(tx, ctx, opts.actor, changes)
  else updateClientById(tx, ctx, clientId, changes)
  return session
}
