import { Elysia } from 'elysia'
import { environmentFapi } from '../../domain/instance/fapi.routes'
import { myOauthGrantsFapi } from '../../domain/oauth/fapi.routes'
import { emailAddressesFapi, meFapi, phoneNumbersFapi } from '../../flows/account/fapi.routes'
import { mfaFapi, stepUpFapi } from '../../flows/account/mfa.routes'
import { clientsFapi } from '../../flows/client/fapi.routes'
import { devBrowserFapi } from '../../flows/dev-browser.routes'
import { linksFapi } from '../../flows/links.routes'
import { organizationsFapi } from '../../flows/organizations.routes'
import { signInsFapi } from '../../flows/sign-in/fapi.routes'
import { signUpsFapi } from '../../flows/sign-up/fapi.routes'
import { externalAccountsFapi } from '../../flows/social/fapi.routes'
import { edgeParsedBody } from '../shared/parsed-body'
import { clerkPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/**
 * Frontend API: browsers and native apps, env by host, caller by client token. Cookies, CORS and
 * rate limits are applied around it by the dispatcher (src/http/fapi/edge.ts).
 */
export const createFapi = () =>
  new Elysia({ name: 'surface:fapi', ...ELYSIA_CONFIG })
    .use(clerkPresenter())
    .use(edgeParsedBody())
    .use(environmentFapi)
    .use(clientsFapi)
    .use(signInsFapi)
    .use(signUpsFapi)
    .use(meFapi)
    .use(emailAddressesFapi)
    .use(phoneNumbersFapi)
    .use(mfaFapi)
    .use(stepUpFapi)
    .use(linksFapi)
    .use(organizationsFapi)
    .use(myOauthGrantsFapi)
    .use(externalAccountsFapi)
    .use(devBrowserFapi)
