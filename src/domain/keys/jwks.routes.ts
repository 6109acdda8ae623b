import { t } from 'elysia'
import { JWKS_MAX_AGE_SECONDS } from '../../crypto/keys'
import { capabilityRoutes } from '../../http/shared/routes'

const Jwks = t.Object({
  keys: t.Array(
    t.Object(
      { kid: t.String(), kty: t.String(), alg: t.String(), use: t.String() },
      { additionalProperties: true },
    ),
  ),
})
const headers = {
  'content-type': 'application/json',
  'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}, stale-while-revalidate=60`,
  'access-control-allow-origin': '*',
}

/**
 * JWKS is served pre-serialized: it is fetched by every verifier, and the body only changes
 * when keys rotate or retire.
 */
const jwksResponse = (env: { keys: { jwksJson(now: number): string }; clock: { now(): number } }) =>
  new Response(env.keys.jwksJson(env.clock.now()), { headers })

export const jwksBapi = capabilityRoutes('bapi:jwks').get('/v1/jwks', ({ env }) => jwksResponse(env), {
  response: { 200: Jwks },
  detail: { summary: "The environment's public signing keys", tags: ['JWKS'] },
})

export const jwksWellKnown = capabilityRoutes('wellknown:jwks').get(
  '/.well-known/jwks.json',
  ({ env }) => jwksResponse(env),
  {
    response: { 200: Jwks },
    detail: { summary: 'Public signing keys (JWKS) of the environment on this host', tags: ['JWKS'] },
  },
)
