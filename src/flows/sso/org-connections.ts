import type { ClientActor } from '../../domain/clients/service'
import * as connections from '../../domain/enterprise-sso/connections'
import type {
  CreateEnterpriseConnectionBody,
  ListEnterpriseConnectionsQuery,
  UpdateEnterpriseConnectionBody,
} from '../../domain/enterprise-sso/model'
import { testConnection } from '../../domain/enterprise-sso/probe'
import { missingPermission, orgNotFound } from '../../domain/organizations/errors'
import { roleHas } from '../../domain/organizations/rbac'
import {
  assertOrganizationsEnabled,
  findMembership,
  findOrganization,
} from '../../domain/organizations/service'
import type { EnvContext } from '../../tenancy/context'
import { requireSignedIn } from '../account/signed-in'

/**
 * An organization's own enterprise connections (self-serve SSO), for its members holding
 * `org:sys_enterprise_sso:manage`: the same service as the Backend API's, scoped to the
 * organization (others' connections are not found; organization_id is the caller's).
 */

export const MANAGE_ENTERPRISE_SSO = 'org:sys_enterprise_sso:manage'

function scopeOf(ctx: EnvContext, actor: ClientActor, orgId: string): connections.Scope {
  assertOrganizationsEnabled(ctx)
  const { user } = requireSignedIn(ctx, actor, actor.sessionId)
  const org = findOrganization(ctx.db, orgId)
  const membership = org ? findMembership(ctx.db, org.id, user.user.id) : null
  if (!org || !membership) throw orgNotFound()
  if (!roleHas(ctx.db, membership.roleId, MANAGE_ENTERPRISE_SSO))
    throw missingPermission(MANAGE_ENTERPRISE_SSO)
  return { organizationId: org.id }
}

export const listOrgConnections = (
  ctx: EnvContext,
  actor: ClientActor,
  orgId: string,
  q: ListEnterpriseConnectionsQuery,
) => connections.listConnections(ctx, q, scopeOf(ctx, actor, orgId))

export const createOrgConnection = (
  ctx: EnvContext,
  actor: ClientActor,
  orgId: string,
  input: CreateEnterpriseConnectionBody,
) => connections.createConnection(ctx, input, scopeOf(ctx, actor, orgId))

export const getOrgConnection = (ctx: EnvContext, actor: ClientActor, orgId: string, id: string) =>
  connections.getConnection(ctx, id, scopeOf(ctx, actor, orgId))

export const updateOrgConnection = (
  ctx: EnvContext,
  actor: ClientActor,
  orgId: string,
  id: string,
  input: UpdateEnterpriseConnectionBody,
) => connections.updateConnection(ctx, id, input, scopeOf(ctx, actor, orgId))

export const deleteOrgConnection = (ctx: EnvContext, actor: ClientActor, orgId: string, id: string) =>
  connections.deleteConnection(ctx, id, scopeOf(ctx, actor, orgId))

export const testOrgConnection = (ctx: EnvContext, actor: ClientActor, orgId: string, id: string) =>
  testConnection(ctx, id, scopeOf(ctx, actor, orgId))
