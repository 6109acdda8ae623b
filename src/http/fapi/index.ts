import { Elysia } from 'elysia'
import { clerkPresenter } from '../shared/presenter'

/**
 * Frontend API: browsers and native apps, env by host. Capabilities add their FAPI routes
 * here (client, sign-ins, sign-ups, sessions, /v1/me …).
 */
export const createFapi = () => new Elysia({ name: 'surface:fapi', normalize: false }).use(clerkPresenter())
