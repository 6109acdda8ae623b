import { t } from 'elysia'
import { capabilityRoutes } from '../../http/shared/routes'
import { InstanceSettings } from '../../tenancy/settings'
import { publicEnvironment } from './service'

export const EnvironmentResource = t.Object({
  object: t.Literal('environment'),
  id: t.String(),
  environment_type: t.String(),
  display_config: t.Object({ application_name: t.String() }),
  auth_config: t.Record(t.String(), t.Unknown()),
  organization_settings: InstanceSettings.properties.organizations,
})

export const environmentFapi = capabilityRoutes('fapi:environment').get(
  '/v1/environment',
  ({ env }) => publicEnvironment(env),
  {
    response: { 200: EnvironmentResource },
    detail: { summary: 'Public auth configuration the sign-in UI needs', tags: ['Environment'] },
  },
)
