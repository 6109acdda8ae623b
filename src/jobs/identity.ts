import { expireChallenges } from '../domain/challenges/service'
import { retryDueMessages } from '../domain/messages/service'
import { purgeExpiredFlows } from '../domain/oauth-providers/service'
import { expireSessions } from '../domain/sessions/service'
import { abandonSignIns } from '../domain/sign-ins/store'
import { abandonSignUps } from '../domain/sign-ups/store'
import { challengesDue, messagesDue, oauthFlowsDue, sessionsDue, signInsDue, signUpsDue } from './due'
import type { EnvJob } from './scheduler'

/** Deadlines of the sign-in machinery, persisted on time (reads already honour them). */
export const IDENTITY_JOBS: EnvJob[] = [
  { name: 'expire-sessions', run: expireSessions, nextDue: sessionsDue },
  { name: 'expire-challenges', run: expireChallenges, nextDue: challengesDue },
  { name: 'abandon-sign-ins', run: abandonSignIns, nextDue: signInsDue },
  { name: 'abandon-sign-ups', run: abandonSignUps, nextDue: signUpsDue },
  { name: 'retry-messages', run: retryDueMessages, nextDue: messagesDue },
  { name: 'purge-oauth-flows', run: purgeExpiredFlows, nextDue: oauthFlowsDue },
]
