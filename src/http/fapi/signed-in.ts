import { Elysia } from 'elysia'
import { requireSignedIn } from '../../flows/account/signed-in'
import { requestEnv } from '../shared/request-state'
import { resolveActor } from './actor'

/**
 * The calling device and its signed-in user and session, for `/v1/me`-style routes:
 * `({ env, actor, me }) => …`, or 401 before the handler runs (after body validation, as
 * resolves do). Use it instead of withActor, not beside it.
 */
export const withSignedIn = new Elysia({ name: 'with-signed-in' }).resolve(
  { as: 'scoped' },
  async ({ request }) => {
    const { actor } = await resolveActor(request)
    return { actor, me: requireSignedIn(requestEnv(request), actor, actor.sessionId) }
  },
)
