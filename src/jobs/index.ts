import { IDENTITY_JOBS } from './identity'
import { pruneKeysJob } from './prune-keys'
import type { EnvJob } from './scheduler'

/** Every background job, run for each env on each scheduler tick. */
export const ENV_JOBS: EnvJob[] = [pruneKeysJob, ...IDENTITY_JOBS]
