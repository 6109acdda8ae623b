import { pruneKeys } from '../crypto/keys'
import { envKeysDir } from '../tenancy/paths'
import { keysDue } from './due'
import type { EnvJob } from './scheduler'

/** Deletes signing keys whose retention has passed: every token they signed has expired. */
export const pruneKeysJob: EnvJob = {
  name: 'prune-keys',
  run(ctx) {
    const gone = pruneKeys(envKeysDir(ctx.dir), ctx.clock.now())
    if (gone.length) {
      ctx.keys.reload()
      ctx.log.info({ kids: gone }, 'retired signing keys deleted')
    }
  },
  nextDue: keysDue,
}
