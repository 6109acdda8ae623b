import { refreshSessionToken } from '../../flows/client/service'
import { jsonAnswer, type Lane } from '../shared/lane'
import { readClientToken } from './actor'

const PREFIX = '/v1/client/sessions/'
const SUFFIX = '/tokens'

// A JWT is base64url and dots: nothing in it needs escaping.
const tokenResponse = (jwt: string) => jsonAnswer(`{"object":"token","jwt":"${jwt}"}`)

/** The session id in /v1/client/sessions/{sid}/tokens, or null for any other path. */
function tokensPathSid(path: string): string | null {
  if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) return null
  const sid = path.slice(PREFIX.length, -SUFFIX.length)
  return sid.length > 0 && sid.length <= 64 && !sid.includes('/') ? sid : null
}

/**
 * The session-token refresh (every signed-in tab, about once a minute): a device whose client
 * and session are in order gets its token here; an organization switch (a body), a missing or
 * stale client token, a session that is not live, go to the route (`mintToken`).
 */
export const refreshLane: Lane = {
  method: 'POST',
  route: '/v1/client/sessions/:sid/tokens',
  answer(request, path, state) {
    const sid = tokensPathSid(path)
    if (!sid || !state.lease) return null
    const { token } = readClientToken(request)
    if (!token) return null
    const jwt = refreshSessionToken(state.lease.ctx, token, sid, request.headers.get('origin'))
    if (jwt === null) return null
    return typeof jwt === 'string' ? tokenResponse(jwt) : jwt.then(tokenResponse)
  },
}
