import { Elysia } from 'elysia'
import { oauthApiRoutes, oauthBrowserRoutes } from '../../protocols/oauth-provider/oauth.routes'
import { htmlErrorResponse } from '../shared/error-page'
import { oauthErrorResponse } from '../shared/oauth-errors'
import { elysiaPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/** The OAuth provider's machine endpoints: token, introspection, revocation, userinfo. */
export const createOauthApi = () =>
  new Elysia({ name: 'surface:oauth', ...ELYSIA_CONFIG })
    .use(elysiaPresenter(oauthErrorResponse))
    .use(oauthApiRoutes)

/** Pages a person sees: the authorization endpoint, consent (errors are HTML pages). */
export const createOauthPages = () =>
  new Elysia({ name: 'surface:oauth-pages', ...ELYSIA_CONFIG })
    .use(elysiaPresenter(htmlErrorResponse))
    .use(oauthBrowserRoutes)

/** Paths of the pages (the browser surface); the rest of /oauth is the machine surface. */
export const OAUTH_PAGE_PATHS: readonly string[] = ['/oauth/authorize', '/oauth/consent', '/oauth/sign-in']
