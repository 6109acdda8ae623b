import type { ClientActor } from '../../domain/clients/service'
import type { SessionRow } from '../../domain/sessions/schema'
import { currentSession } from '../../domain/sessions/service'
import type { UserAggregate } from '../../domain/users/serialize'
import { findUser } from '../../domain/users/service'
import type { EnvContext } from '../../tenancy/context'
import { signedOut } from '../errors'

/** The signed-in user and the session a `/v1/me` call acts for. */
export interface SignedIn {
  session: SessionRow
  user: UserAggregate
}

/** The session the request names (else the client's last active one), live, with its user; or 401. */
export function requireSignedIn(ctx: EnvContext, actor: ClientActor, sessionId: string | null): SignedIn {
  const session = currentSession(ctx, actor.client, sessionId)
  if (!session) throw signedOut()
  const user = findUser(ctx, session.userId)
  if (!user) throw signedOut()
  return { session, user }
}
