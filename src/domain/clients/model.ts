import { t } from 'elysia'
import { BapiSessionResource } from '../sessions/model'

export const BapiClientResource = t.Object({
  object: t.Literal('client'),
  id: t.String(),
  session_ids: t.Array(t.String()),
  /** The same sessions in full (Clerk's SDKs read these). */
  sessions: t.Array(BapiSessionResource),
  sign_in_id: t.Nullable(t.String()),
  sign_up_id: t.Nullable(t.String()),
  last_active_session_id: t.Nullable(t.String()),
  last_authentication_strategy: t.Nullable(t.String()),
  created_at: t.Integer(),
  updated_at: t.Integer(),
})
