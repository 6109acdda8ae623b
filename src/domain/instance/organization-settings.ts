import type { EnvContext } from '../../tenancy/context'
import { updateInstance } from './service'

/**
 * The organization part of the instance settings in Clerk's shape (`GET|PATCH
 * /v1/instance/organization_settings`, read by `@clerk/backend`'s OrganizationSettings). Limits
 * we do not have (custom roles and permissions are unbounded) answer null; organizations are
 * always deletable by their admins and always have slugs.
 */
export function organizationSettings(ctx: EnvContext) {
  const o = ctx.settings().organizations
  return {
    object: 'organization_settings' as const,
    enabled: o.enabled,
    max_allowed_memberships: o.max_allowed_memberships,
    max_allowed_roles: null,
    max_allowed_permissions: null,
    creator_role: o.creator_role,
    admin_delete_enabled: true,
    domains_enabled: o.domains_enabled,
    slug_disabled: false,
    domains_enrollment_modes: o.domains_enabled ? ['automatic_invitation'] : [],
    domains_default_role: o.default_role,
  }
}

export interface OrganizationSettingsPatch {
  enabled?: boolean
  max_allowed_memberships?: number
  domains_enabled?: boolean
  /** Clerk's names: the role key (`org:admin`) of creators and of domain enrollment. */
  creator_role_id?: string
  domains_default_role_id?: string
}

export async function updateOrganizationSettings(ctx: EnvContext, patch: OrganizationSettingsPatch) {
  await updateInstance(ctx, {
    organizations: {
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(patch.max_allowed_memberships !== undefined
        ? { max_allowed_memberships: patch.max_allowed_memberships }
        : {}),
      ...(patch.domains_enabled !== undefined ? { domains_enabled: patch.domains_enabled } : {}),
      ...(patch.creator_role_id !== undefined ? { creator_role: patch.creator_role_id } : {}),
      ...(patch.domains_default_role_id !== undefined ? { default_role: patch.domains_default_role_id } : {}),
    },
  })
  return organizationSettings(ctx)
}
