import { expireChallenges } from '../domain/challenges/service'
import { retryDueMessages } from '../domain/messages/service'
import { expireSessions } from '../domain/sessions/service'
import { abandonSignIns } from '../domain/sign-ins/store'
import { abandonSignUps } from '../domain/sign-ups/store'
import type { EnvJob } from './scheduler'

/** Deadlines of the sign-in machinery, persisted on time (reads already honour them). */
export const IDENTITY_JOBS: EnvJob[] = [
  { name: 'expire-sessions', run: expireSessions },
  { name: 'expire-challenges', run: expireChallenges },
  { name: 'abandon-sign-ins', run: abandonSignIns },
  { name: 'abandon-sign-ups', run: abandonSignUps },
  { name: 'retry-messages', run: retryDueMessages },
]
