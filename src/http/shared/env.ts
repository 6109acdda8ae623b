import { Elysia } from 'elysia'
import { requestEnv } from './request-state'

/** Gives routes the env the dispatcher leased: `({ env }) => service(env, …)`. */
export const withEnv = new Elysia({ name: 'with-env' }).resolve({ as: 'scoped' }, ({ request }) => ({
  env: requestEnv(request),
}))
