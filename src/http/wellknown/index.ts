import { Elysia } from 'elysia'
import { jwksWellKnown } from '../../domain/keys/jwks.routes'
import { oauthDiscovery } from '../../protocols/oauth-provider/oauth.routes'
import { clerkPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/** Host-addressed public documents: /.well-known/* (OIDC discovery joins later). */
export const createWellKnown = () =>
  new Elysia({ name: 'surface:wellknown', ...ELYSIA_CONFIG })
    .use(clerkPresenter())
    .use(jwksWellKnown)
    .use(oauthDiscovery)
