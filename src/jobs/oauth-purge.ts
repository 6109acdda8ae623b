import { purgeOauthTokens, SPENT_REFRESH_RETENTION_MS } from '../domain/oauth/tokens'
import type { EnvContext } from '../tenancy/context'
import type { EnvJob } from './scheduler'

const earliest = (ctx: EnvContext, sql: string) =>
  ctx.client.query<{ at: number | null }, []>(sql).get()?.at ?? null

/**
 * The OAuth provider's clean-up: expired authorization codes, expired access-token records, and
 * spent refresh tokens once their reuse-detection window is over.
 */
export const oauthPurgeJob: EnvJob = {
  name: 'purge-oauth-tokens',
  run(ctx) {
    const gone = purgeOauthTokens(ctx)
    if (gone.codes || gone.tokens) ctx.log.info(gone, 'expired OAuth codes and tokens purged')
  },
  nextDue(ctx) {
    const code = earliest(ctx, 'SELECT min(expires_at) AS at FROM oauth_codes')
    const token = earliest(ctx, 'SELECT min(expires_at) AS at FROM oauth_tokens WHERE expires_at IS NOT NULL')
    const spent = earliest(ctx, 'SELECT min(used_at) AS at FROM oauth_tokens WHERE used_at IS NOT NULL')
    const due = [code, token, spent === null ? null : spent + SPENT_REFRESH_RETENTION_MS].filter(
      (t): t is number => t !== null,
    )
    return due.length ? Math.min(...due) + 1 : null
  },
}
