import { keyRetirements } from '../crypto/keys'
import type { EnvContext } from '../tenancy/context'
import { envKeysDir } from '../tenancy/paths'

// When each job next has work, read from the rows it acts on. Jobs import no table (the
// layering rule), so these are plain SQL over the capabilities' column names, each answered
// from an index on (status, deadline). A renamed column fails the expiry tests.

type Min = { at: number | null }

/** min() of one column over the rows a query selects; null when there are none. */
function earliest(ctx: EnvContext, sql: string): number | null {
  return ctx.client.query<Min, []>(sql).get()?.at ?? null
}

const min = (...values: Array<number | null>) => {
  const known = values.filter((v): v is number => v !== null)
  return known.length ? Math.min(...known) : null
}

export const sessionsDue = (ctx: EnvContext) =>
  min(
    earliest(ctx, "SELECT min(expire_at) AS at FROM sessions WHERE status IN ('active', 'pending')"),
    earliest(
      ctx,
      "SELECT min(abandon_at) AS at FROM sessions WHERE status IN ('active', 'pending') AND abandon_at IS NOT NULL",
    ),
  )

export const challengesDue = (ctx: EnvContext) =>
  earliest(ctx, "SELECT min(expire_at) AS at FROM challenges WHERE status = 'unverified'")

export const signInsDue = (ctx: EnvContext) =>
  earliest(
    ctx,
    "SELECT min(abandon_at) AS at FROM sign_ins WHERE status IN ('needs_identifier', 'needs_first_factor', 'needs_second_factor', 'needs_new_password')",
  )

export const signUpsDue = (ctx: EnvContext) =>
  earliest(ctx, "SELECT min(abandon_at) AS at FROM sign_ups WHERE status = 'missing_requirements'")

export const messagesDue = (ctx: EnvContext) =>
  earliest(ctx, "SELECT min(next_attempt_at) AS at FROM messages WHERE status = 'queued'")

/** Pending deliveries and the claims of deliveries being sent (a claim expires: taken over then). */
export const webhooksDue = (ctx: EnvContext) =>
  earliest(ctx, 'SELECT min(next_attempt_at) AS at FROM webhook_deliveries')

/** Deliveries not yet sent (pending, or claimed and being sent). */
export const webhookBacklog = (ctx: EnvContext) =>
  ctx.client
    .query<{ n: number }, []>(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'sending')",
    )
    .get()?.n ?? 0

/**
 * The next signing key whose retention ends (then prune-keys deletes its file), from the files
 * as prune-keys reads them (the key store re-reads a changed folder only once a second).
 */
export const keysDue = (ctx: EnvContext) => min(...keyRetirements(envKeysDir(ctx.dir)))

/** Social sign-in flows nobody came back from (oauth_flows, by its expiry index). */
export const oauthFlowsDue = (ctx: EnvContext) =>
  earliest(ctx, 'SELECT min(expire_at) AS at FROM oauth_flows')
