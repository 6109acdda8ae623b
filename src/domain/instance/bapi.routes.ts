import { capabilityRoutes } from '../../http/shared/routes'
import { InstanceResource, InstanceSettingsPatch } from './model'
import { instanceResource, type SettingsPatch, updateInstance } from './service'

const tags = ['Instance']

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
