import { Elysia } from 'elysia'
import { enterpriseSsoBrowser } from '../../flows/sso/browser.routes'
import { htmlErrorResponse } from '../shared/error-page'
import { edgeParsedBody } from '../shared/parsed-body'
import { elysiaPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/** Paths of the browser surface: a person's browser arrives here from an IdP. */
export const isBrowserPath = (path: string) =>
  path.startsWith('/v1/saml/') || path === '/v1/enterprise-sso-callback'

/**
 * Browser-only routes (SAML ACS and metadata, SSO callbacks): env by host, errors as HTML pages,
 * no CORS (an IdP's form post from its own origin is how the ACS is reached).
 */
export const createBrowser = () =>
  new Elysia({ name: 'surface:browser', ...ELYSIA_CONFIG })
    .use(elysiaPresenter(htmlErrorResponse))
    .use(edgeParsedBody())
    .use(enterpriseSsoBrowser)
