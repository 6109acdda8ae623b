import type { AnyElysia } from 'elysia'
import { BAPI_ALIASES } from '../bapi/aliases'
import { routeNotFound } from '../shared/errors'
import { openApiDocument } from './openapi'
import { referencePage } from './page'
import { VIEWER_PATH, viewerBundle } from './viewer'

export interface Docs {
  /** GET of one of the documents' paths. */
  matches(path: string, method: string): boolean
  handle(request: Request): Response
}

/**
 * /openapi/bapi.json, /openapi/fapi.json, the /docs page and the viewer it loads
 * (/docs/scalar.js), answered on every host.
 */
export function createDocs(
  apps: Record<'bapi' | 'fapi' | 'wellknown', AnyElysia> & { frontendHost?: AnyElysia[] },
): Docs {
  const once = <T>(make: () => T) => {
    let v: T | undefined
    return () => (v ??= make())
  }
  const bapi = once(() =>
    JSON.stringify(
      openApiDocument([apps.bapi], {
        title: 'authn Backend API',
        description:
          'Server-to-server API of one environment, authenticated with its secret key (Authorization: Bearer sk_…).',
        security: 'secretKey',
        aliases: BAPI_ALIASES,
      }),
    ),
  )
  const fapi = once(() =>
    JSON.stringify(
      openApiDocument([apps.fapi, apps.wellknown, ...(apps.frontendHost ?? [])], {
        title: 'authn Frontend API',
        description:
          "Everything served on an environment's frontend host: the browser API, /.well-known, OAuth, SCIM and SSO endpoints.",
      }),
    ),
  )
  const page = once(() =>
    referencePage([
      { title: 'Backend API', slug: 'bapi', url: '/openapi/bapi.json' },
      { title: 'Frontend API', slug: 'fapi', url: '/openapi/fapi.json' },
    ]),
  )
  const json = (body: string) =>
    new Response(body, {
      headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
    })
  const documents = new Map<string, () => Response>([
    ['/openapi/bapi.json', () => json(bapi())],
    ['/openapi/fapi.json', () => json(fapi())],
    ['/docs', () => new Response(page(), { headers: { 'content-type': 'text/html; charset=utf-8' } })],
    [
      VIEWER_PATH,
      () =>
        new Response(viewerBundle(), {
          headers: {
            'content-type': 'text/javascript; charset=utf-8',
            // The file changes only with the package version, which changes only with a deploy.
            'cache-control': 'public, max-age=3600',
          },
        }),
    ],
  ])
  return {
    matches: (path, method) => method === 'GET' && documents.has(path),
    handle(request) {
      const make = documents.get(new URL(request.url).pathname)
      if (!make) throw routeNotFound()
      return make()
    },
  }
}
