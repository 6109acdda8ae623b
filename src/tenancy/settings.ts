import { type Static, type TSchema, Type } from '@sinclair/typebox'

// The env's auth configuration is tenancy data: it lives in the env file's `environment` row
// and every layer reads it through ctx.settings(). Plain TypeBox (no Elysia), so the CLI and the
// pool load no HTTP framework.

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const Toggle = Type.Union([Type.Literal('off'), Type.Literal('on'), Type.Literal('required')])

const Identifier = Type.Object({
  enabled: Type.Boolean(),
  required: Type.Boolean(),
  used_for_first_factor: Type.Boolean(),
})

export const FIRST_FACTORS = ['password', 'email_code', 'email_link', 'phone_code'] as const
export const SECOND_FACTORS = ['totp', 'phone_code', 'backup_code'] as const

/** The identifier a factor sends its code or link to: it must be enabled for the factor to be. */
export const FACTOR_NEEDS_IDENTIFIER: Partial<Record<string, 'email_address' | 'phone_number'>> = {
  email_code: 'email_address',
  email_link: 'email_address',
  phone_code: 'phone_number',
}

/** The auth configuration sign-up and sign-in read; stored as one JSON document per env. */
export const InstanceSettings = Type.Object({
  application_name: Type.String({ minLength: 1, maxLength: 128 }),
  sign_up: Type.Object({
    mode: Type.Union([Type.Literal('public'), Type.Literal('restricted'), Type.Literal('waitlist')]),
  }),
  identifiers: Type.Object({
    email_address: Type.Composite([Identifier, Type.Object({ verify_at_sign_up: Type.Boolean() })]),
    phone_number: Type.Composite([
      Identifier,
      Type.Object({ verify_at_sign_up: Type.Boolean(), used_for_second_factor: Type.Boolean() }),
    ]),
    username: Type.Composite([
      Identifier,
      Type.Object({
        min_length: Type.Integer({ minimum: 1, maximum: 64 }),
        max_length: Type.Integer({ minimum: 1, maximum: 64 }),
      }),
    ]),
  }),
  names: Type.Object({ first_name: Toggle, last_name: Toggle }),
  first_factors: Type.Array(
    Type.Union([
      Type.Literal('password'),
      Type.Literal('email_code'),
      Type.Literal('email_link'),
      Type.Literal('phone_code'),
    ]),
    { uniqueItems: true },
  ),
  second_factors: Type.Array(
    Type.Union([Type.Literal('totp'), Type.Literal('phone_code'), Type.Literal('backup_code')]),
    {
      uniqueItems: true,
    },
  ),
  second_factor_required: Type.Boolean(),
  password: Type.Object({
    required: Type.Boolean(),
    min_length: Type.Integer({ minimum: 8, maximum: 256 }),
    max_length: Type.Integer({ minimum: 8, maximum: 256 }),
    require_uppercase: Type.Boolean(),
    require_lowercase: Type.Boolean(),
    require_numbers: Type.Boolean(),
    require_special_char: Type.Boolean(),
  }),
  session: Type.Object({
    /** Absolute lifetime; null turns it off (then the inactivity timeout must be on). */
    max_lifetime_seconds: Nullable(Type.Integer({ minimum: 300, maximum: 10 * 365 * 86400 })),
    inactivity_timeout_seconds: Nullable(Type.Integer({ minimum: 300, maximum: 10 * 365 * 86400 })),
    multi_session: Type.Boolean(),
  }),
  lockout: Type.Object({
    enabled: Type.Boolean(),
    max_attempts: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** null: locked until an operator unlocks. */
    duration_seconds: Nullable(Type.Integer({ minimum: 60, maximum: 10 * 365 * 86400 })),
  }),
  enumeration_protection: Type.Boolean(),
  email_link_require_same_client: Type.Boolean(),
  allowed_origins: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 100 }),
  redirect_urls: Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 100 }),
  token: Type.Object({
    algorithm: Type.Union([Type.Literal('RS256'), Type.Literal('ES256'), Type.Literal('EdDSA')]),
  }),
  /** Sender of the env's emails; the SMTP relay itself is process configuration. */
  email: Type.Object({
    /** false: nothing is sent; an `email.created` event carries each message instead. */
    delivered_by_us: Type.Boolean(),
    from_name: Type.String({ minLength: 1, maxLength: 128 }),
    from_address: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }),
  }),
  sms: Type.Object({ from_number: Nullable(Type.String({ pattern: '^\\+[1-9]\\d{6,14}$' })) }),
  organizations: Type.Object({
    enabled: Type.Boolean(),
    /** Members plus pending invitations per organization; 0 is unlimited. Orgs may override it. */
    max_allowed_memberships: Type.Integer({ minimum: 0, maximum: 100_000 }),
    /** The role of whoever creates an organization; it must keep `org:sys_memberships:manage`. */
    creator_role: Type.String({ pattern: '^org:[a-z0-9_]{1,64}$' }),
    /** Pre-filled for invitations and given by verified domains' automatic enrollment. */
    default_role: Type.String({ pattern: '^org:[a-z0-9_]{1,64}$' }),
    domains_enabled: Type.Boolean(),
    /** Signed-in users may create organizations from the Frontend API. */
    users_can_create: Type.Boolean(),
  }),
  /** The env as an OAuth 2.0 / OIDC provider. */
  oauth_provider: Type.Object({
    /** RFC 7591 `POST /oauth/register`: public clients (MCP agents, native apps) register themselves. */
    dynamic_client_registration: Type.Boolean(),
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
    oauth_provider: { dynamic_client_registration: false },
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
