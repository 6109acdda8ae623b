import { randomToken } from '../../crypto/secrets'
import { issueLocalChallenge } from '../../domain/challenges/service'
import { formError, formParamMissing } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { stepOf } from './shared'
import type { Factor } from './types'

const STRATEGY = 'password'

const dummies = new WeakMap<object, Promise<string>>()

/**
 * A digest nobody's password matches, made once by this hasher at its real cost: an unknown
 * identifier (under enumeration protection) costs a sign-in what a known one does.
 */
function dummyDigest(ctx: EnvContext): Promise<string> {
  let digest = dummies.get(ctx.passwords)
  if (!digest) {
    digest = ctx.passwords.hash(randomToken(24))
    dummies.set(ctx.passwords, digest)
  }
  return digest
}

/** The password: answered in place, even without an issued challenge (`cid` = `password`). */
export const password: Factor = {
  strategy: STRATEGY,
  kind: 'first',
  answer: 'secret',
  stepUp: true,
  implicit: true,
  options: (ctx, user) =>
    ctx.settings().first_factors.includes(STRATEGY) && user.user.passwordDigest !== null
      ? [{ strategy: STRATEGY, safe_identifier: null }]
      : [],
  decoyOptions: (ctx) =>
    ctx.settings().first_factors.includes(STRATEGY) ? [{ strategy: STRATEGY, safe_identifier: null }] : [],
  prepare: ({ tx, ctx, parent }) => ({
    challenge: issueLocalChallenge(tx, ctx, {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: stepOf('first'),
      strategy: STRATEGY,
    }),
  }),
  // argon2id takes ~100 ms: it runs here, before the transaction, on the hashing queue.
  async precheck({ ctx, user, input }) {
    if (input.password === undefined) throw formParamMissing('password')
    if (user?.user.passwordDigest) return ctx.passwords.verify(input.password, user.user.passwordDigest)
    await ctx.passwords.verify(input.password, await dummyDigest(ctx))
    return false
  },
  check: (_tx, { prechecked }) => prechecked === true,
  wrongAnswer: ({ ctx, purpose }) =>
    purpose === 'step_up'
      ? formError('form_password_incorrect', 'password', 'is incorrect', 'The password is incorrect.')
      : ctx.settings().enumeration_protection
        ? formError(
            'form_password_or_identifier_incorrect',
            'password',
            'is incorrect',
            'The identifier or password is incorrect.',
          )
        : formError(
            'form_password_incorrect',
            'password',
            'is incorrect',
            'Password is incorrect. Try again, or use another method.',
          ),
}
