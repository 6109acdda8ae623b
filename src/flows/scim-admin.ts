import type { ListQuery } from '../db/pages'
import type { ClientActor } from '../domain/clients/service'
import * as admin from '../domain/scim/admin'
import type { Mapping } from '../domain/scim/mapping'
import type { EnvContext } from '../tenancy/context'
import { requireMember } from './organizations'

/**
 * The org-scoped SCIM admin on the Frontend API: a signed-in member whose role has
 * `org:sys_provisioning:read` sees the setup, `…:manage` changes it.
 */
const READ = 'org:sys_provisioning:read'
const MANAGE = 'org:sys_provisioning:manage'

export const scimEndpointAsMember = (ctx: EnvContext, actor: ClientActor, id: string) =>
  admin.scimEndpoint(ctx, requireMember(ctx, actor, id, READ).org.id, actor.frontendUrl)

export const listScimTokensAsMember = (ctx: EnvContext, actor: ClientActor, id: string, q: ListQuery) =>
  admin.listScimTokens(ctx, requireMember(ctx, actor, id, READ).org.id, q)

export function issueScimTokenAsMember(
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  input: { name?: string | null },
) {
  const { org, user } = requireMember(ctx, actor, id, MANAGE)
  return admin.issueScimToken(ctx, org.id, input, user.id)
}

export const revokeScimTokenAsMember = (ctx: EnvContext, actor: ClientActor, id: string, tokenId: string) =>
  admin.revokeScimToken(ctx, requireMember(ctx, actor, id, MANAGE).org.id, tokenId)

export const getScimMappingAsMember = (ctx: EnvContext, actor: ClientActor, id: string) =>
  admin.getScimMapping(ctx, requireMember(ctx, actor, id, READ).org.id)

export const replaceScimMappingAsMember = (
  ctx: EnvContext,
  actor: ClientActor,
  id: string,
  mapping: Mapping,
) => admin.replaceScimMapping(ctx, requireMember(ctx, actor, id, MANAGE).org.id, mapping)
