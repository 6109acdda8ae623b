import { Elysia } from 'elysia'
import { clientsBapi } from '../../domain/clients/bapi.routes'
import { enterpriseConnectionsBapi } from '../../domain/enterprise-sso/bapi.routes'
import { eventsBapi } from '../../domain/events/bapi.routes'
import { instanceBapi } from '../../domain/instance/bapi.routes'
import { jwtTemplatesBapi } from '../../domain/jwt-templates/bapi.routes'
import { jwksBapi } from '../../domain/keys/jwks.routes'
import { messagesBapi } from '../../domain/messages/bapi.routes'
import { oauthApplicationsBapi } from '../../domain/oauth/bapi.routes'
import { oauthProvidersBapi } from '../../domain/oauth-providers/bapi.routes'
import { organizationsBapi, rolesBapi } from '../../domain/organizations/bapi.routes'
import { sessionsBapi } from '../../domain/sessions/bapi.routes'
import { ticketsBapi } from '../../domain/tickets/bapi.routes'
import { usersBapi } from '../../domain/users/bapi.routes'
import { webhooksBapi } from '../../domain/webhooks/bapi.routes'
import { mfaBapi } from '../../flows/account/mfa-bapi.routes'
import { sessionTokensBapi } from '../../flows/session-tokens.routes'
import { oauthTokensBapi } from '../../flows/social/bapi.routes'
import { edgeParsedBody } from '../shared/parsed-body'
import { clerkPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/** Backend API: composition only. The dispatcher has already authenticated the secret key. */
export const createBapi = () =>
  new Elysia({ name: 'surface:bapi', ...ELYSIA_CONFIG })
    .use(clerkPresenter())
    .use(edgeParsedBody())
    .use(usersBapi)
    .use(instanceBapi)
    .use(eventsBapi)
    .use(jwksBapi)
    .use(sessionsBapi)
    .use(clientsBapi)
    .use(ticketsBapi)
    .use(messagesBapi)
    .use(mfaBapi)
    .use(jwtTemplatesBapi)
    .use(webhooksBapi)
    .use(organizationsBapi)
    .use(rolesBapi)
    .use(oauthApplicationsBapi)
    .use(oauthProvidersBapi)
    .use(oauthTokensBapi)
    .use(enterpriseConnectionsBapi)
    .use(sessionTokensBapi)
