import type { RequestState } from '../../src/http/shared/request-state'
import { silentLogger } from '../../src/log'
import type { EnvContext } from '../../src/tenancy/context'

/** The dispatcher's state for a request bound to `ctx`, as a lane or a surface's app sees it. */
export const boundState = (ctx: EnvContext, method: string, path: string): RequestState => ({
  traceId: 't',
  ip: '127.0.0.1',
  startedAt: 0,
  method,
  path,
  log: silentLogger,
  lease: { ctx, release() {} },
})
