import { Elysia } from 'elysia'
import { withEnv } from './env'

/**
 * The Elysia instance a capability declares its routes on, for one surface. Settings live here
 * so every instance agrees with its surface:
 * - `normalize: false`: unknown body parameters are a 422 form_param_unknown, not silently
 *   dropped (serializers build responses field by field, so nothing unlisted leaks out);
 * - `encodeSchema: false`: responses are checked against their schema but not re-encoded, as we
 *   use no transforms; encoding cost several microseconds per request on hot routes.
 */
export const ELYSIA_CONFIG = { normalize: false, encodeSchema: false } as const

export const capabilityRoutes = (name: string) => new Elysia({ name, ...ELYSIA_CONFIG }).use(withEnv)
