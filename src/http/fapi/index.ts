import { Elysia } from 'elysia'
import { clerkPresenter } from '../shared/presenter'
import { ELYSIA_CONFIG } from '../shared/routes'

/**
 * Frontend API: browsers and native apps, env by host. Capabilities add their FAPI routes
 * here (client, sign-ins, sign-ups, sessions, /v1/me …).
 */
export const createFapi = () => new Elysia({ name: 'surface:fapi', ...ELYSIA_CONFIG }).use(clerkPresenter())
