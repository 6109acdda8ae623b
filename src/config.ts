import { isIP } from 'node:net'
import { type Static, Type as T } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** The only reader of process.env. Everything else gets a frozen Config. */
export const ConfigSchema = T.Object({
  dataDir: T.String({ minLength: 1, default: './tenants' }),
  port: T.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  hostname: T.String({ default: '0.0.0.0' }),
  logLevel: T.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
    { default: 'info' },
  ),
  /** Largest request body any surface accepts (bytes). */
  maxBodyBytes: T.Integer({ minimum: 1024, default: 1_048_576 }),
  /**
   * Open env handles kept in the LRU (each holds four file descriptors: the database, its WAL,
   * its -shm, and the -shm again for the cross-process change check). Room for
   * a node's working set: a request to an env whose handle was evicted opens it again (~1-2 ms).
   */
  maxOpenEnvs: T.Integer({ minimum: 1, default: 1536 }),
  /** Concurrent argon2id hashes; each takes ~64 MiB. */
  passwordHashConcurrency: T.Integer({ minimum: 1, maximum: 64, default: 2 }),
  /** Password checks of one env waiting for a hashing slot; beyond this the env gets 429. */
  passwordQueuePerEnv: T.Integer({ minimum: 1, maximum: 10_000, default: 32 }),
  /** A password check's time budget, waiting included (ms); past it the caller gets 503. */
  passwordDeadlineMs: T.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  /** How often the job scheduler ticks (ms). */
  jobIntervalMs: T.Integer({ minimum: 50, default: 10_000 }),
  /** Per-IP rate limits on the Frontend API's sign-in endpoints. */
  rateLimits: T.Boolean({ default: true }),
  /** SMTP relay for every env's email, e.g. smtp://user:pass@mail.example.com:587; unset: no email. */
  smtpUrl: T.Optional(T.String({ minLength: 1 })),
  /** SMS over an HTTP API shaped like Twilio's Messages API; unset account: no SMS. */
  smsApiUrl: T.String({ default: 'https://api.twilio.com' }),
  smsAccountSid: T.Optional(T.String({ minLength: 1 })),
  smsAuthToken: T.Optional(T.String({ minLength: 1 })),
  /** How long one webhook attempt may take before it counts as failed (ms). */
  webhookTimeoutMs: T.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
  /** DNS server for domain verification (`host:port`); unset: the system's resolvers. */
  dnsServer: T.Optional(T.String({ minLength: 1 })),
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose X-Forwarded-For and X-Forwarded-Proto
   * are believed; comma-separated in AUTHN_TRUSTED_PROXIES. Empty: nobody's.
   */
  trustedProxies: T.Array(T.String({ minLength: 1 }), { default: [] }),
  /**
   * Set by a server for the worker processes it starts: they join its lock on the data root
   * and share its port. Unset: this `serve` locks the root itself and binds the port alone.
   */
  serveGroup: T.Optional(T.String({ minLength: 16 })),
  /**
   * Server processes sharing the port (`serve --workers`); the machine's CPUs when unset. The
   * password hashing bound (passwordHashConcurrency) is the machine's, split between them.
   */
  workers: T.Optional(T.Integer({ minimum: 1, maximum: 256 })),
  /** Set by a server for each worker it starts (1…workers-1); the leader is 0. Logged. */
  workerIndex: T.Optional(T.Integer({ minimum: 0, maximum: 255 })),
  /** When set, GET /metrics wants `Authorization: Bearer <token>`; unset: /metrics is open. */
  metricsToken: T.Optional(T.String({ minLength: 16 })),
  /** Litestream replica URL template with `{env_id}` (file:///backups/{env_id}, s3://bucket/authn/{env_id}). */
  replicaUrl: T.Optional(T.String({ minLength: 1 })),
  /** Seals key files copied to the replica and into backups (any string; a key is derived from it). */
  backupKey: T.Optional(T.String({ minLength: 16 })),
})
export type Config = Readonly<Static<typeof ConfigSchema>>

const ENV_NAMES: Record<keyof Config, string> = {
  dataDir: 'AUTHN_DATA_DIR',
  port: 'PORT',
  hostname: 'AUTHN_HOSTNAME',
  logLevel: 'AUTHN_LOG_LEVEL',
  maxBodyBytes: 'AUTHN_MAX_BODY_BYTES',
  maxOpenEnvs: 'AUTHN_MAX_OPEN_ENVS',
  passwordHashConcurrency: 'AUTHN_PASSWORD_HASH_CONCURRENCY',
  passwordQueuePerEnv: 'AUTHN_PASSWORD_QUEUE_PER_ENV',
  passwordDeadlineMs: 'AUTHN_PASSWORD_DEADLINE_MS',
  jobIntervalMs: 'AUTHN_JOB_INTERVAL_MS',
  rateLimits: 'AUTHN_RATE_LIMITS',
  smtpUrl: 'AUTHN_SMTP_URL',
  smsApiUrl: 'AUTHN_SMS_API_URL',
  smsAccountSid: 'AUTHN_SMS_ACCOUNT_SID',
  smsAuthToken: 'AUTHN_SMS_AUTH_TOKEN',
  webhookTimeoutMs: 'AUTHN_WEBHOOK_TIMEOUT_MS',
  dnsServer: 'AUTHN_DNS_SERVER',
  trustedProxies: 'AUTHN_TRUSTED_PROXIES',
  serveGroup: 'AUTHN_SERVE_GROUP',
  workers: 'AUTHN_WORKERS',
  workerIndex: 'AUTHN_WORKER_INDEX',
  metricsToken: 'AUTHN_METRICS_TOKEN',
  replicaUrl: 'AUTHN_REPLICA_URL',
  backupKey: 'AUTHN_BACKUP_KEY',
}

/** Settings that are lists: comma-separated in the environment. */
const LISTS: ReadonlySet<string> = new Set<keyof Config>(['trustedProxies'])

/** `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`: an address, or a network with a prefix length in range. */
const isCidr = (entry: string) => {
  const [address = '', prefix, ...rest] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || rest.length > 0) return false
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128))
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name]
    if (value !== undefined && value !== '')
      raw[key] = LISTS.has(key)
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
        : value
  }
  Object.assign(raw, overrides)
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw))
  if (!Value.Check(ConfigSchema, withDefaults)) {
    const first = Value.Errors(ConfigSchema, withDefaults).First()
    const key = first?.path.split('/')[1] as keyof Config | undefined
    throw new Error(`invalid configuration: ${key ? ENV_NAMES[key] : '?'} ${first?.message ?? ''}`)
  }
  const proxy = (withDefaults as Config).trustedProxies.find((p) => !isCidr(p))
  if (proxy !== undefined)
    throw new Error(
      `invalid configuration: AUTHN_TRUSTED_PROXIES ${proxy} is not an IP address or CIDR range`,
    )
  Object.freeze((withDefaults as Config).trustedProxies)
  return Object.freeze(withDefaults as Config)
}
