import { jwksResponse } from '../../domain/keys/jwks.routes'
import type { Lane } from '../shared/lane'

const JWKS_PATH = '/.well-known/jwks.json'

/** JWKS: a pre-serialized body per env, fetched by every verifier. */
export const jwksLane: Lane = {
  method: 'GET',
  route: JWKS_PATH,
  answer: (request, path, state) =>
    path === JWKS_PATH && state.lease ? jwksResponse(state.lease.ctx, request) : null,
}
