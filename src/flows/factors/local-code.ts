import { issueLocalChallenge } from '../../domain/challenges/service'
import type { UserAggregate } from '../../domain/users/serialize'
import { formError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { codeIncorrect, requireCode, stepOf } from './shared'
import type { Factor } from './types'

/** A factor whose codes are recognised by their shape, checked and used up without a challenge. */
export interface CodeShapedFactor extends Factor {
  shape: RegExp
  consume(tx: EnvTx, ctx: EnvContext, userId: string, code: string): boolean
}

/**
 * A second factor answered with a code the user already has (an authenticator's or a backup
 * code): nothing is sent; a code of the wrong shape is a format error that counts nothing.
 */
export function localCodeFactor(spec: {
  strategy: string
  shape: RegExp
  shapeHint: string
  enrolled(user: UserAggregate): boolean
  consume(tx: EnvTx, ctx: EnvContext, userId: string, code: string): boolean
}): CodeShapedFactor {
  return {
    strategy: spec.strategy,
    kind: 'second',
    answer: 'code',
    stepUp: true,
    shape: spec.shape,
    consume: spec.consume,
    options: (ctx, user) =>
      ctx.settings().second_factors.includes(spec.strategy as never) && spec.enrolled(user)
        ? [{ strategy: spec.strategy, safe_identifier: null }]
        : [],
    enrolled: spec.enrolled,
    prepare: ({ tx, ctx, parent }) => ({
      challenge: issueLocalChallenge(tx, ctx, {
        parentType: parent.type,
        parentId: parent.id,
        clientId: parent.clientId,
        step: stepOf('second'),
        strategy: spec.strategy,
      }),
    }),
    async precheck({ input }) {
      if (!spec.shape.test(requireCode(input.code).trim()))
        throw formError('form_param_format_invalid', 'code', 'is invalid', spec.shapeHint)
      return null
    },
    check: (tx, { ctx, input, user }) => !!user && spec.consume(tx, ctx, user.user.id, input.code!.trim()),
    wrongAnswer: codeIncorrect,
  }
}
