import type { Config } from '../config'
import { pruneKeysJob } from './prune-keys'
import type { EnvJob } from './scheduler'

/** Every job the scheduler runs for each env, in order. */
export const createEnvJobs = (_config: Config): EnvJob[] => [pruneKeysJob]
