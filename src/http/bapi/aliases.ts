import { type PathAlias, pathAliases } from '../aliases'

/**
 * Clerk's spellings of Backend API routes (what `@clerk/backend`'s `createClerkClient` calls),
 * each standing for the seed's route. Where Clerk's route has no seed twin, the route itself is
 * ours (memberships addressed by user id, session tokens, a user's memberships). Collections
 * other sessions add (OAuth applications, enterprise connections) are aliased by prefix here
 * so their routes need nothing: an alias to a route that does not exist is still a 404.
 */
export const BAPI_ALIASES: readonly PathAlias[] = [
  { from: '/v1/users/:id/verify_password', to: '/v1/users/:id/verify-password' },
  { from: '/v1/users/:id/verify_totp', to: '/v1/users/:id/verify-totp' },
  { from: '/v1/users/:id/organization_memberships', to: '/v1/users/:id/organization-memberships' },
  { from: '/v1/users/:id/oauth_access_tokens/:provider', to: '/v1/users/:id/oauth-access-tokens/:provider' },
  { from: '/v1/instance/organization_settings', to: '/v1/instance/organization-settings' },
  { from: '/v1/sign_in_tokens', to: '/v1/sign-in-tokens' },
  { from: '/v1/sign_in_tokens/:id/revoke', to: '/v1/sign-in-tokens/:id/revoke' },
  { from: '/v1/jwt_templates', to: '/v1/jwt-templates' },
  { from: '/v1/jwt_templates/:id', to: '/v1/jwt-templates/:id' },
  {
    from: '/v1/organizations/:id/invitations/pending',
    to: '/v1/organizations/:id/invitations',
    methods: ['GET'],
    query: { status: 'pending' },
  },
  { from: '/v1/oauth_applications', to: '/v1/oauth-applications' },
  { from: '/v1/oauth_applications/:id', to: '/v1/oauth-applications/:id' },
  { from: '/v1/oauth_applications/:id/rotate_secret', to: '/v1/oauth-applications/:id/rotate-secret' },
  { from: '/v1/enterprise_connections', to: '/v1/enterprise-connections' },
  { from: '/v1/enterprise_connections/:id', to: '/v1/enterprise-connections/:id' },
  { from: '/v1/users/:id/oauth_access_tokens/:provider', to: '/v1/users/:id/oauth-access-tokens/:provider' },
]

export const bapiAliases = pathAliases(BAPI_ALIASES)
