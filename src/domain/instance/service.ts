import { Value } from '@sinclair/typebox/value'
import { rotateKeys } from '../../crypto/keys'
import { withTx } from '../../db/tx'
import { formError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import { environmentRow, writeSettings } from '../../tenancy/env-store'
import { envKeysDir } from '../../tenancy/paths'
import { FACTOR_NEEDS_IDENTIFIER, InstanceSettings } from '../../tenancy/settings'
import { emit } from '../events/service'
import { socialConnections } from '../oauth-providers/service'
import { checkOrganizationSettings } from '../organizations/rbac'

export type SettingsPatch = { [K in keyof InstanceSettings]?: DeepPartial<InstanceSettings[K]> }
type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T

export function instanceResource(ctx: EnvContext) {
  const row = environmentRow(ctx)
  return {
    object: 'instance' as const,
    id: row.id,
    environment_type: row.type,
    ...ctx.settings(),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  }
}

function merge<T>(base: T, patch: unknown): T {
  if (patch === undefined) return base
  if (
    Array.isArray(patch) ||
    patch === null ||
    typeof patch !== 'object' ||
    typeof base !== 'object' ||
    base === null
  ) {
    return patch as T
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v)
  return out as T
}

const invalid = (param: string, long: string) =>
  formError('form_param_value_invalid', param, 'is invalid', long)

function isOrigin(value: string): boolean {
  try {
    const u = new URL(value)
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === value.replace(/\/$/, '')
  } catch {
    return false
  }
}

function isRedirectUrl(value: string): boolean {
  try {
    const u = new URL(value)
    if (u.hash) return false
    if (u.protocol === 'https:') return true
    if (u.protocol === 'http:')
      return u.hostname === 'localhost' || u.hostname.endsWith('.localhost') || u.hostname === '127.0.0.1'
    // Native apps' custom schemes (myapp://callback); never script-capable ones.
    return (
      /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) &&
      !['javascript:', 'data:', 'vbscript:', 'file:'].includes(u.protocol)
    )
  } catch {
    return false
  }
}

/** Rules across fields that a schema cannot express; a bad setting is a 422, never a broken env. */
export function checkSettings(s: InstanceSettings) {
  const ids = s.identifiers
  for (const name of ['email_address', 'phone_number', 'username'] as const) {
    const id = ids[name]
    if ((id.required || id.used_for_first_factor) && !id.enabled) {
      throw invalid(
        `identifiers.${name}.enabled`,
        `${name} must be enabled to be required or used to sign in.`,
      )
    }
  }
  if (
    !ids.email_address.used_for_first_factor &&
    !ids.phone_number.used_for_first_factor &&
    !ids.username.used_for_first_factor
  ) {
    throw invalid('identifiers', 'At least one identifier must be usable to sign in.')
  }
  if (ids.username.min_length > ids.username.max_length) {
    throw invalid('identifiers.username.min_length', 'The minimum username length exceeds the maximum.')
  }
  for (const [list, factors] of [
    ['first_factors', s.first_factors],
    ['second_factors', s.second_factors],
  ] as const) {
    for (const f of factors) {
      const needs = FACTOR_NEEDS_IDENTIFIER[f]
      if (needs && !ids[needs].enabled) throw invalid(list, `${f} needs the ${needs} identifier enabled.`)
    }
  }
  if (!s.first_factors.length) throw invalid('first_factors', 'At least one first factor must be enabled.')
  if (s.password.required && !s.first_factors.includes('password')) {
    throw invalid('password.required', 'A required password must also be enabled as a first factor.')
  }
  if (s.second_factor_required && !s.second_factors.length) {
    throw invalid(
      'second_factor_required',
      'Requiring a second factor needs at least one second factor enabled.',
    )
  }
  if (s.password.min_length > s.password.max_length) {
    throw invalid('password.min_length', 'The minimum password length exceeds the maximum.')
  }
  if (s.session.max_lifetime_seconds === null && s.session.inactivity_timeout_seconds === null) {
    throw invalid('session', 'Either the maximum lifetime or the inactivity timeout must stay on.')
  }
  s.allowed_origins.forEach((o, i) => {
    if (!isOrigin(o))
      throw invalid('allowed_origins', `allowed_origins[${i}] is not an origin (scheme://host[:port]).`)
  })
  s.redirect_urls.forEach((u, i) => {
    if (!isRedirectUrl(u))
      throw invalid('redirect_urls', `redirect_urls[${i}] is not an allowed redirect URL.`)
  })
}

/**
 * Merges the patch (objects merge, arrays replace), validates the whole result and stores it.
 * A new token algorithm publishes a key of that algorithm, which signs once JWKS caches have
 * had time to see it.
 */
export async function updateInstance(ctx: EnvContext, patch: SettingsPatch) {
  const current = ctx.settings()
  const next = merge(current, patch)
  if (!Value.Check(InstanceSettings, next)) {
    const first = Value.Errors(InstanceSettings, next).First()
    const param = (first?.path ?? '').split('/').filter(Boolean).join('.') || 'body'
    throw formError(
      'form_param_format_invalid',
      param,
      'is invalid',
      `${param} is invalid: ${first?.message ?? 'invalid value'}.`,
    )
  }
  next.allowed_origins = next.allowed_origins.map((o) => o.replace(/\/$/, ''))
  checkSettings(next)
  if (patch.organizations) checkOrganizationSettings(ctx, next.organizations)
  if (next.token.algorithm !== current.token.algorithm) {
    await rotateKeys(envKeysDir(ctx.dir), ctx.clock.now(), { alg: next.token.algorithm })
    ctx.keys.reload()
  }
  const resource = withTx(ctx, (tx) => {
    writeSettings(tx, ctx, next)
    // Same connection: the read sees the uncommitted update.
    const r = instanceResource(ctx)
    emit(tx, ctx, 'instance.updated', r)
    return r
  })
  ctx.invalidate()
  return resource
}

/** What a browser may know of the env's configuration (FAPI `GET /v1/environment`). */
export function publicEnvironment(ctx: EnvContext) {
  const s = ctx.settings()
  return {
    object: 'environment' as const,
    id: ctx.id,
    environment_type: ctx.type,
    display_config: { application_name: s.application_name },
    auth_config: {
      sign_up: s.sign_up,
      identifiers: s.identifiers,
      names: s.names,
      first_factors: s.first_factors,
      second_factors: s.second_factors,
      second_factor_required: s.second_factor_required,
      password: s.password,
      single_session_mode: !s.session.multi_session,
      email_link_require_same_client: s.email_link_require_same_client,
      social: socialConnections(ctx),
    },
    organization_settings: s.organizations,
  }
}
