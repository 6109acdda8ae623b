import { t } from 'elysia'
import { resolveActor } from '../../http/fapi/actor'
import { capabilityRoutes } from '../../http/shared/routes'
import { oidcCallback, samlAcs, samlMetadata, startSaml } from './saml'

const tags = ['Enterprise SSO']
const noStore = { 'cache-control': 'no-store' }
const redirect = (location: string) => new Response(null, { status: 303, headers: { location, ...noStore } })

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

/**
 * The IdP's form, posted to us again from our own origin so the client cookie comes with it (see
 * samlAcs). The values are escaped; only our nonce'd script runs, and only to our own ACS.
 */
function repostPage(action: string, form: { SAMLResponse: string; RelayState?: string }) {
  const nonce = crypto.randomUUID().replaceAll('-', '')
  const field = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Signing you in…</title></head>
<body><form id="f" method="post" action="${escapeHtml(action)}">${field('SAMLResponse', form.SAMLResponse)}${
    form.RelayState !== undefined ? field('RelayState', form.RelayState) : ''
  }${field('__authn_repost', '1')}<noscript><button type="submit">Continue</button></noscript></form>
<script nonce="${nonce}">document.getElementById('f').submit()</script></body></html>`
  return new Response(html, {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'`,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      ...noStore,
    },
  })
}

/**
 * Browser-only routes of enterprise SSO (the `browser` surface: HTML error pages, no CORS, form
 * posts from the IdP's origin accepted): SAML metadata, start, ACS; the shared OIDC callback.
 */
export const enterpriseSsoBrowser = capabilityRoutes('browser:enterprise-sso')
  .get(
    '/v1/saml/:id/metadata',
    ({ env, params }) =>
      new Response(samlMetadata(env, params.id), {
        headers: {
          'content-type': 'application/samlmetadata+xml; charset=utf-8',
          'cache-control': 'max-age=300',
        },
      }),
    {
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
      detail: { summary: 'SAML SP metadata of a connection (entity id, ACS, signing certificate)', tags },
    },
  )
  .get(
    '/v1/saml/:id/start',
    async ({ env, params, query }) => redirect(await startSaml(env, params.id, query.state)),
    {
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
      query: t.Object({ state: t.String({ maxLength: 128 }) }),
      detail: { summary: 'Send the browser to the IdP with an AuthnRequest (redirect binding)', tags },
    },
  )
  .post(
    '/v1/saml/:id/acs',
    async ({ env, params, body, request }) => {
      const { actor } = await resolveActor(request)
      const form = {
        SAMLResponse: body.SAMLResponse,
        RelayState: body.RelayState,
        reposted: body.__authn_repost === '1',
      }
      const out = await samlAcs(env, actor, params.id, form)
      return 'repost' in out ? repostPage(new URL(request.url).pathname, form) : redirect(out.redirect)
    },
    {
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
      body: t.Object({
        SAMLResponse: t.String({ minLength: 1, maxLength: 400_000 }),
        RelayState: t.Optional(t.String({ maxLength: 512 })),
        __authn_repost: t.Optional(t.String({ maxLength: 1 })),
      }),
      detail: { summary: 'SAML AssertionConsumerService (HTTP-POST binding)', tags },
    },
  )
  .get(
    '/v1/enterprise-sso-callback',
    async ({ env, request }) => {
      const { actor } = await resolveActor(request)
      return redirect(await oidcCallback(env, actor, new URL(request.url).searchParams))
    },
    {
      query: t.Object(
        {
          state: t.String({ maxLength: 256 }),
          code: t.Optional(t.String({ maxLength: 2048 })),
          iss: t.Optional(t.String({ maxLength: 2048 })),
          error: t.Optional(t.String({ maxLength: 256 })),
          error_description: t.Optional(t.String({ maxLength: 2048 })),
          error_uri: t.Optional(t.String({ maxLength: 2048 })),
          session_state: t.Optional(t.String({ maxLength: 512 })),
        },
        { additionalProperties: false },
      ),
      detail: {
        summary: 'Shared OIDC redirect URI of enterprise connections (connection found by state)',
        tags,
      },
    },
  )
