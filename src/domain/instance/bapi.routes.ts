import { t } from 'elysia'
import { capabilityRoutes } from '../../http/shared/routes'
import { InstanceResource, InstanceSettingsPatch } from './model'
import { organizationSettings, updateOrganizationSettings } from './organization-settings'
import { instanceResource, type SettingsPatch, updateInstance } from './service'

const tags = ['Instance']

const OrganizationSettingsResource = t.Object({
  object: t.Literal('organization_settings'),
  enabled: t.Boolean(),
  max_allowed_memberships: t.Integer(),
  max_allowed_roles: t.Null(),
  max_allowed_permissions: t.Null(),
  creator_role: t.String(),
  admin_delete_enabled: t.Boolean(),
  domains_enabled: t.Boolean(),
  slug_disabled: t.Boolean(),
  domains_enrollment_modes: t.Array(t.String()),
  domains_default_role: t.String(),
})

export const instanceBapi = capabilityRoutes('bapi:instance')
  .get('/v1/instance', ({ env }) => instanceResource(env), {
    response: { 200: InstanceResource },
    detail: { summary: "Get the environment's auth configuration", tags },
  })
  .patch('/v1/instance', ({ env, body }) => updateInstance(env, body as SettingsPatch), {
    body: InstanceSettingsPatch,
    response: { 200: InstanceResource },
    detail: { summary: 'Update the auth configuration (objects merge, arrays replace)', tags },
  })
  .get('/v1/instance/organization-settings', ({ env }) => organizationSettings(env), {
    response: { 200: OrganizationSettingsResource },
    detail: { summary: "The organization settings in Clerk's shape", tags },
  })
  .patch('/v1/instance/organization-settings', ({ env, body }) => updateOrganizationSettings(env, body), {
    body: t.Object(
      {
        enabled: t.Optional(t.Boolean()),
        max_allowed_memberships: t.Optional(t.Integer({ minimum: 0, maximum: 100_000 })),
        domains_enabled: t.Optional(t.Boolean()),
        creator_role_id: t.Optional(t.String({ maxLength: 70 })),
        domains_default_role_id: t.Optional(t.String({ maxLength: 70 })),
      },
      { additionalProperties: false },
    ),
    response: { 200: OrganizationSettingsResource },
    detail: { summary: "Update the organization settings (Clerk's names; role ids are role keys)", tags },
  })
