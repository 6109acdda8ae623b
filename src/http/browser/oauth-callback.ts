import { Elysia } from 'elysia'
import { oauthCallbackRoutes } from '../../flows/social/callback.routes'
import { htmlErrorResponse } from '../shared/error-page'
import { elysiaPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/**
 * The social sign-in callback (`/v1/oauth-callback/{provider_key}`), a browser surface: a person
 * is looking, so errors are an HTML page; a provider may form-POST to it from its own origin.
 */
export const createOauthCallback = () =>
  new Elysia({ name: 'surface:oauth-callback', ...ELYSIA_CONFIG })
    .use(elysiaPresenter(htmlErrorResponse))
    .use(oauthCallbackRoutes)
