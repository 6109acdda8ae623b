import { AppError } from '../../lib/errors'

// The error codes of tickets: sign-in tokens and instance invitations.

export const ticketError = (code: string, long: string) =>
  new AppError(400, [{ code, message: 'invalid ticket', long_message: long }])

export const invitationNotPending = (status: string) =>
  new AppError(400, [
    { code: 'invitation_not_pending', message: 'not pending', long_message: `The invitation is ${status}.` },
  ])
