import { t } from 'elysia'

/** A session as the Backend API shows it (also embedded in the BAPI client). */
export const BapiSessionResource = t.Object({
  object: t.Literal('session'),
  id: t.String(),
  client_id: t.String(),
  user_id: t.String(),
  status: t.String(),
  tasks: t.Array(t.Object({ key: t.String() })),
  last_active_at: t.Integer(),
  expire_at: t.Nullable(t.Integer()),
  abandon_at: t.Nullable(t.Integer()),
  last_active_organization_id: t.Nullable(t.String()),
  factor_verification_age: t.Array(t.Integer()),
  actor: t.Null(),
  latest_activity: t.Object({ ip_address: t.Nullable(t.String()), user_agent: t.Nullable(t.String()) }),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
