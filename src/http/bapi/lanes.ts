import { userResourceJson } from '../../domain/users/service'
import { isId } from '../../lib/ids'
import { jsonAnswer, type Lane } from '../shared/lane'

const USERS = '/v1/users/'

/**
 * GET /v1/users/{id}, the Backend API's most frequent read (a backend resolving the user of
 * each request it serves): a user that exists, asked for without a query string. A missing
 * user, a locked one, a malformed id and anything with a query go to the route.
 */
export const userLane: Lane = {
  method: 'GET',
  route: '/v1/users/:id',
  answer(request, path, state) {
    if (!path.startsWith(USERS) || !state.lease || request.url.includes('?')) return null
    const id = path.slice(USERS.length)
    if (!isId('user', id)) return null
    const json = userResourceJson(state.lease.ctx, id)
    return json ? jsonAnswer(json) : null
  },
}
