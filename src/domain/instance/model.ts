import { t } from 'elysia'
import { InstanceSettings } from '../../tenancy/settings'

/** Partial at every level: PATCH merges objects and replaces arrays. */
function deepPartial<T extends ReturnType<typeof t.Object>>(schema: T): ReturnType<typeof t.Partial> {
  const props: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(schema.properties)) {
    const s = v as { type?: string; properties?: unknown }
    props[k] = s.type === 'object' && s.properties ? deepPartial(v as T) : v
  }
  return t.Partial(t.Object(props as never, { additionalProperties: false }))
}
export const InstanceSettingsPatch = deepPartial(InstanceSettings)

export const InstanceResource = t.Composite([
  t.Object({
    object: t.Literal('instance'),
    id: t.String(),
    environment_type: t.Union([t.Literal('development'), t.Literal('production')]),
  }),
  InstanceSettings,
  t.Object({ created_at: t.Integer(), updated_at: t.Integer() }),
])
