import type { Config } from '../config'
import { webhookDeliveryJob } from '../domain/webhooks/worker'
import { webhooksDue } from './due'
import { IDENTITY_JOBS } from './identity'
import { oauthPurgeJob } from './oauth-purge'
import { pruneKeysJob } from './prune-keys'
import type { EnvJob } from './scheduler'

/** Every job the scheduler runs for each env, in order. */
export const createEnvJobs = (config: Config): EnvJob[] => [
  pruneKeysJob,
  ...IDENTITY_JOBS,
  oauthPurgeJob,
  { ...webhookDeliveryJob({ timeoutMs: config.webhookTimeoutMs }), nextDue: webhooksDue },
]
