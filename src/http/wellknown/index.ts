import { Elysia } from 'elysia'
import { jwksWellKnown } from '../../domain/keys/routes'
import { clerkPresenter } from '../shared/presenter'

/** Host-addressed public documents: /.well-known/* (OIDC discovery joins later). */
export const createWellKnown = () =>
  new Elysia({ name: 'surface:wellknown', normalize: false }).use(clerkPresenter()).use(jwksWellKnown)
