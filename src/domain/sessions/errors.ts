import { AppError } from '../../lib/errors'

/** No token for this session: it ended, expired, or its user is gone or banned. */
export const sessionTokenRefused = (long: string) =>
  new AppError(401, [{ code: 'session_token_refused', message: 'session not active', long_message: long }])
