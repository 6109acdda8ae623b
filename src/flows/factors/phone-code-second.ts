import { codeMatches, issueCodeChallenge, maskIdentifier } from '../../domain/challenges/service'
import type { UserAggregate } from '../../domain/users/serialize'
import { verifiedPhones } from './sent-code'
import { codeIncorrect, requireCode } from './shared'
import type { Factor } from './types'

const STRATEGY = 'phone_code'

/** Numbers the user reserved for second factor. */
const reservedPhones = (user: UserAggregate) => verifiedPhones(user, (reserved) => reserved)

/** A code by SMS to a number reserved for second factor (the user's default one unless named). */
export const phoneCodeSecond: Factor = {
  strategy: STRATEGY,
  kind: 'second',
  answer: 'code',
  stepUp: true,
  options: (ctx, user) =>
    ctx.settings().second_factors.includes(STRATEGY)
      ? reservedPhones(user).map((p) => ({
          strategy: STRATEGY,
          safe_identifier: maskIdentifier(p.value),
          phone_number_id: p.id,
          primary: p.default,
        }))
      : [],
  enrolled: (user) => reservedPhones(user).length > 0,
  prepare({ tx, ctx, after, parent, option, user }) {
    const phone = reservedPhones(user!).find((p) => p.id === option.phone_number_id)!
    return {
      challenge: issueCodeChallenge(tx, ctx, after, {
        parentType: parent.type,
        parentId: parent.id,
        clientId: parent.clientId,
        step: 'second_factor',
        strategy: STRATEGY,
        target: { id: phone.id, value: phone.value },
        channel: 'sms',
        template: 'verification_code',
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
