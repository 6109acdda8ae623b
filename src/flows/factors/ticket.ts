import { AppError, formParamMissing } from '../../lib/errors'
import { consumeTicket, inspectTicket, ticketUserId } from '../tickets'
import type { Factor } from './types'

const STRATEGY = 'ticket'

/**
 * A ticket (sign-in token, instance or organization invitation) signs its user in by itself:
 * the factor identifies the user, and the ticket is used up in the sign-in's transaction. It is
 * never offered as an option; the create request names it.
 */
export const ticket: Factor = {
  strategy: STRATEGY,
  kind: 'first',
  answer: 'token',
  stepUp: false,
  options: () => [],
  prepare() {
    throw new Error('a ticket is presented at creation, never prepared')
  },
  check: () => false,
  wrongAnswer: () => new AppError(400, [{ code: 'ticket_invalid_code', message: 'invalid ticket' }]),
  identify(ctx, input) {
    if (input.strategy !== STRATEGY && input.ticket === undefined) return null
    if (!input.ticket) throw formParamMissing('ticket')
    const t = inspectTicket(ctx, input.ticket)
    const userId = ticketUserId(ctx, t)
    if (!userId) {
      throw new AppError(422, [
        {
          code: 'form_identifier_not_found',
          message: 'not found',
          long_message: 'No account matches this invitation: sign up with it instead.',
          meta: { param_name: 'ticket' },
        },
      ])
    }
    return { userId, strategy: STRATEGY, commit: (tx, c) => consumeTicket(tx, c, t, userId) }
  },
}
