import { t } from 'elysia'
import { withActor } from '../http/fapi/actor'
import { requestState } from '../http/shared/request-state'
import { capabilityRoutes } from '../http/shared/routes'
import { AppError } from '../lib/errors'
import { clerkHandshake } from './clerk-handshake'
import { handshake, openEmailLink } from './links'
import { inspectTicket, ticketLanding, ticketStatus } from './tickets'

const redirect = (location: string, status = 303) =>
  new Response(null, { status, headers: { location, 'cache-control': 'no-store' } })

export const linksFapi = capabilityRoutes('fapi:links')
  .use(withActor)
  .get(
    '/v1/client/handshake',
    async ({ env, actor, query, request }) => {
      if (query.__authn_ticket) return redirect(openEmailLink(env, actor, query.__authn_ticket))
      // Clerk's server SDKs say who they are (`__clerk_api_version`) and want Clerk's cookie names.
      const sdk = requestState(request)?.clientParams ?? {}
      if (sdk.__clerk_api_version !== undefined || query.suffixed_cookies !== undefined) {
        return redirect(await clerkHandshake(env, actor, query, sdk.__clerk_db_jwt), 307)
      }
      return redirect(await handshake(env, actor, query.redirect_url), 307)
    },
    {
      query: t.Object({
        __authn_ticket: t.Optional(t.String({ maxLength: 512 })),
        redirect_url: t.Optional(t.String({ maxLength: 2048 })),
        format: t.Optional(t.String({ maxLength: 16 })),
        // Clerk's handshake (clerk-handshake.ts)
        suffixed_cookies: t.Optional(t.Union([t.Literal('true'), t.Literal('false')])),
        __clerk_hs_reason: t.Optional(t.String({ maxLength: 128 })),
        __session: t.Optional(t.String({ maxLength: 8192 })),
        organization_id: t.Optional(t.String({ maxLength: 256 })),
      }),
      detail: {
        summary:
          'Open a magic link (__authn_ticket), or sync the session cookie to a server-rendered app (redirect_url)',
        tags: ['Links and handshake'],
      },
    },
  )
  .get(
    '/v1/tickets/accept',
    ({ env, query }) => {
      const ticket = inspectTicket(env, query.ticket)
      const landing = ticketLanding(env, ticket)
      if (!landing) {
        throw new AppError(400, [
          {
            code: 'redirect_url_missing',
            message: 'nowhere to go',
            long_message: 'Configure redirect_urls or allowed_origins to accept tickets.',
          },
        ])
      }
      const url = new URL(landing)
      url.searchParams.set('__authn_ticket', query.ticket)
      url.searchParams.set('__authn_status', ticketStatus(env, ticket))
      return redirect(url.toString())
    },
    {
      query: t.Object({ ticket: t.String({ maxLength: 512 }) }),
      detail: {
        summary: 'Forward an invitation or sign-in token link to the app with its ticket',
        tags: ['Links and handshake'],
      },
    },
  )
