import { Elysia } from 'elysia'
import { scimDiscovery, scimResources } from '../../domain/scim/scim.routes'
import { elysiaPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'
import { scimErrorResponse } from '../shared/scim-errors'

/**
 * SCIM 2.0 (RFC 7643/7644) for identity providers: env by host, organization by the SCIM bearer
 * token; RFC 7644 error bodies. Discovery answers without a token.
 */
export const createScim = () =>
  new Elysia({ name: 'surface:scim', ...ELYSIA_CONFIG })
    .use(elysiaPresenter(scimErrorResponse))
    .use(scimDiscovery)
    .use(scimResources)
