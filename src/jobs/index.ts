import type { Config } from '../config'
import { webhookDeliveryJob } from '../domain/webhooks/worker'
import { webhookBacklog, webhooksDue } from './due'
import { IDENTITY_JOBS } from './identity'
import { pruneKeysJob } from './prune-keys'
import type { EnvJob } from './scheduler'

/** Every job the scheduler runs for each env, in order. */
export interface JobHooks {
  /** Every webhook delivery attempt's outcome. */
  onWebhookAttempt?: (ok: boolean) => void
  /** An env's deliveries still to be sent, read after each delivery run in it. */
  onWebhookBacklog?: (envId: string, pending: number) => void
}

export function createEnvJobs(config: Config, hooks: JobHooks = {}): EnvJob[] {
  const delivery = webhookDeliveryJob({
    timeoutMs: config.webhookTimeoutMs,
    onAttempt: hooks.onWebhookAttempt,
  })
  return [
    pruneKeysJob,
    ...IDENTITY_JOBS,
    {
      ...delivery,
      nextDue: webhooksDue,
      async run(ctx) {
        try {
          await delivery.run(ctx)
        } finally {
          hooks.onWebhookBacklog?.(ctx.id, webhookBacklog(ctx))
        }
      },
    },
  ]
}
