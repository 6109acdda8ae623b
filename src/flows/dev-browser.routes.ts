import { t } from 'elysia'
import { capabilityRoutes } from '../http/shared/routes'
import { createDevBrowser } from './clerk-handshake'

export const devBrowserFapi = capabilityRoutes('fapi:dev-browser').post(
  '/v1/dev_browser',
  ({ env }) => createDevBrowser(env),
  {
    response: { 200: t.Object({ object: t.Literal('dev_browser'), id: t.String(), token: t.String() }) },
    detail: {
      summary: "A development browser's token (__clerk_db_jwt, for Clerk's SDKs; development envs only)",
      tags: ['Links and handshake'],
    },
  },
)
