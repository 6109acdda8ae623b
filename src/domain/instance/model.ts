import { type Static, t } from 'elysia'

const Toggle = t.Union([t.Literal('off'), t.Literal('on'), t.Literal('required')])

const Identifier = t.Object({
  enabled: t.Boolean(),
  required: t.Boolean(),
  used_for_first_factor: t.Boolean(),
})

export const FIRST_FACTORS = ['password', 'email_code', 'email_link', 'phone_code'] as const
export const SECOND_FACTORS = ['totp', 'phone_code', 'backup_code'] as const

/** The auth configuration sign-up and sign-in read; stored as one JSON document per env. */
export const InstanceSettings = t.Object({
  application_name: t.String({ minLength: 1, maxLength: 128 }),
  sign_up: t.Object({ mode: t.Union([t.Literal('public'), t.Literal('restricted'), t.Literal('waitlist')]) }),
  identifiers: t.Object({
    email_address: t.Composite([Identifier, t.Object({ verify_at_sign_up: t.Boolean() })]),
    phone_number: t.Composite([
      Identifier,
      t.Object({ verify_at_sign_up: t.Boolean(), used_for_second_factor: t.Boolean() }),
    ]),
    username: t.Composite([
      Identifier,
      t.Object({
        min_length: t.Integer({ minimum: 1, maximum: 64 }),
        max_length: t.Integer({ minimum: 1, maximum: 64 }),
      }),
    ]),
  }),
  names: t.Object({ first_name: Toggle, last_name: Toggle }),
  first_factors: t.Array(
    t.Union([
      t.Literal('password'),
      t.Literal('email_code'),
      t.Literal('email_link'),
      t.Literal('phone_code'),
    ]),
    { uniqueItems: true },
  ),
  second_factors: t.Array(t.Union([t.Literal('totp'), t.Literal('phone_code'), t.Literal('backup_code')]), {
    uniqueItems: true,
  }),
  second_factor_required: t.Boolean(),
  password: t.Object({
    required: t.Boolean(),
    min_length: t.Integer({ minimum: 8, maximum: 256 }),
    max_length: t.Integer({ minimum: 8, maximum: 256 }),
    require_uppercase: t.Boolean(),
    require_lowercase: t.Boolean(),
    require_numbers: t.Boolean(),
    require_special_char: t.Boolean(),
  }),
  session: t.Object({
    /** Absolute lifetime; null turns it off (then the inactivity timeout must be on). */
    max_lifetime_seconds: t.Nullable(t.Integer({ minimum: 300, maximum: 10 * 365 * 86400 })),
    inactivity_timeout_seconds: t.Nullable(t.Integer({ minimum: 300, maximum: 10 * 365 * 86400 })),
    multi_session: t.Boolean(),
  }),
  lockout: t.Object({
    enabled: t.Boolean(),
    max_attempts: t.Integer({ minimum: 1, maximum: 1000 }),
    /** null: locked until an operator unlocks. */
    duration_seconds: t.Nullable(t.Integer({ minimum: 60, maximum: 10 * 365 * 86400 })),
  }),
  enumeration_protection: t.Boolean(),
  email_link_require_same_client: t.Boolean(),
  allowed_origins: t.Array(t.String({ maxLength: 512 }), { maxItems: 100 }),
  redirect_urls: t.Array(t.String({ maxLength: 2048 }), { maxItems: 100 }),
  token: t.Object({
    algorithm: t.Union([t.Literal('RS256'), t.Literal('ES256'), t.Literal('EdDSA')]),
  }),
  /** Sender of the env's emails; the SMTP relay itself is process configuration. */
  email: t.Object({
    /** false: nothing is sent; an `email.created` event carries each message instead. */
    delivered_by_us: t.Boolean(),
    from_name: t.String({ minLength: 1, maxLength: 128 }),
    from_address: t.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }),
  }),
  sms: t.Object({ from_number: t.Nullable(t.String({ pattern: '^\\+[1-9]\\d{6,14}$' })) }),
  organizations: t.Object({
    enabled: t.Boolean(),
    /** Members plus pending invitations per organization; 0 is unlimited. Orgs may override it. */
    max_allowed_memberships: t.Integer({ minimum: 0, maximum: 100_000 }),
    /** The role of whoever creates an organization; it must keep `org:sys_memberships:manage`. */
    creator_role: t.String({ pattern: '^org:[a-z0-9_]{1,64}$' }),
    /** Pre-filled for invitations and given by verified domains' automatic enrollment. */
    default_role: t.String({ pattern: '^org:[a-z0-9_]{1,64}$' }),
    domains_enabled: t.Boolean(),
    /** Signed-in users may create organizations from the Frontend API. */
    users_can_create: t.Boolean(),
  }),
})
export type InstanceSettings = Static<typeof InstanceSettings>

export function defaultSettings(
  name: string,
  algorithm: InstanceSettings['token']['algorithm'],
): InstanceSettings {
  return {
    application_name: name,
    sign_up: { mode: 'public' },
    identifiers: {
      email_address: { enabled: true, required: true, used_for_first_factor: true, verify_at_sign_up: true },
      phone_number: {
        enabled: false,
        required: false,
        used_for_first_factor: false,
        verify_at_sign_up: true,
        used_for_second_factor: false,
      },
      username: {
        enabled: false,
        required: false,
        used_for_first_factor: false,
        min_length: 4,
        max_length: 64,
      },
    },
    names: { first_name: 'on', last_name: 'on' },
    first_factors: ['password', 'email_code'],
    second_factors: ['totp', 'backup_code'],
    second_factor_required: false,
    password: {
      required: true,
      min_length: 8,
      max_length: 72,
      require_uppercase: false,
      require_lowercase: false,
      require_numbers: false,
      require_special_char: false,
    },
    session: { max_lifetime_seconds: 7 * 86400, inactivity_timeout_seconds: null, multi_session: false },
    lockout: { enabled: true, max_attempts: 10, duration_seconds: 3600 },
    enumeration_protection: false,
    email_link_require_same_client: false,
    allowed_origins: [],
    redirect_urls: [],
    token: { algorithm },
    email: { delivered_by_us: true, from_name: name, from_address: 'no-reply@authn.localhost' },
    sms: { from_number: null },
    organizations: {
      enabled: false,
      max_allowed_memberships: 5,
      creator_role: 'org:admin',
      default_role: 'org:member',
      domains_enabled: false,
      users_can_create: true,
    },
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Settings stored by an older version lack newer fields; they read as the defaults, so a new
 * setting never needs a data migration.
 */
export function withDefaults(stored: Record<string, unknown>, defaults: InstanceSettings): InstanceSettings {
  const fill = (base: unknown, over: unknown): unknown => {
    if (!isObject(base) || !isObject(over)) return over === undefined ? base : over
    const out: Record<string, unknown> = { ...base }
    for (const [k, v] of Object.entries(over)) out[k] = fill(base[k], v)
    return out
  }
  return fill(defaults, stored) as InstanceSettings
}

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
