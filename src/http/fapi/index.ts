import { Elysia } from 'elysia'
import { clientsFapi } from '../../domain/clients/fapi.routes'
import { environmentFapi } from '../../domain/instance/fapi.routes'
import { linksFapi } from '../../domain/links/fapi.routes'
import { meFapi } from '../../domain/me/fapi.routes'
import { mfaFapi } from '../../domain/mfa/fapi.routes'
import { organizationsFapi } from '../../domain/organizations/fapi.routes'
import { signInsFapi } from '../../domain/sign-ins/fapi.routes'
import { signUpsFapi } from '../../domain/sign-ups/fapi.routes'
import { clerkPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/**
 * Frontend API: browsers and native apps, env by host, caller by client token. Cookies, CORS and
 * rate limits are applied around it by the dispatcher (src/http/fapi/edge.ts).
 */
export const createFapi = () =>
  new Elysia({ name: 'surface:fapi', ...ELYSIA_CONFIG })
    .use(clerkPresenter())
    .use(environmentFapi)
    .use(clientsFapi)
    .use(signInsFapi)
    .use(signUpsFapi)
    .use(meFapi)
    .use(mfaFapi)
    .use(linksFapi)
    .use(organizationsFapi)
