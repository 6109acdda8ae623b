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

type JwksEnv = {
  keys: { jwksDocument(now: number): { json: string; etag: string } }
  clock: { now(): number }
}

/**
 * JWKS is served pre-serialized with its ETag: it is fetched by every verifier, and the body
 * only changes when keys rotate or retire. A verifier revalidating what it holds gets a 304.
 */
export function jwksResponse(env: JwksEnv, request: Request) {
  const doc = env.keys.jwksDocument(env.clock.now())
  let withTag = tagged.get(doc)
  if (!withTag) {
    withTag = { ...headers, etag: doc.etag }
    tagged.set(doc, withTag)
  }
  const held = request.headers.get('if-none-match')
  if (held?.split(',').some((t) => t.trim().replace(/^W\//, '') === doc.etag || t.trim() === '*'))
    return new Response(null, { status: 304, headers: withTag })
  return new Response(doc.json, { headers: withTag })
}
/** The response headers of each JWKS document, made once. */
const tagged = new WeakMap<object, Record<string, string>>()

export const jwksBapi = capabilityRoutes('bapi:jwks').get(
  '/v1/jwks',
  ({ env, request }) => jwksResponse(env, request),
  {
    response: { 200: Jwks },
    detail: { summary: "The environment's public signing keys", tags: ['JWKS'] },
  },
)

export const jwksWellKnown = capabilityRoutes('wellknown:jwks').get(
  '/.well-known/jwks.json',
  ({ env, request }) => jwksResponse(env, request),
  {
    response: { 200: Jwks },
    detail: { summary: 'Public signing keys (JWKS) of the environment on this host', tags: ['JWKS'] },
  },
)
