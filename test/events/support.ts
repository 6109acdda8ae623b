import { expect } from 'bun:test'
import { createHmac } from 'node:crypto'
import { createBapi } from '../../src/http/bapi/index'
import { createFapi } from '../../src/http/fapi/index'
import { type Browser, browser, recordingDelivery } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'

/**
 * Machinery of the event-coverage suite (coverage.test.ts): the mutating routes of the real
 * surfaces, a stage per area with the usual ways to make users and sign them in, and the one
 * request under test, whose new event rows are collected.
 */

export type Surface = 'BAPI' | 'FAPI'
/** `BAPI PATCH /v1/users/:id`: both surfaces have a `POST /v1/organizations`, so the surface leads. */
export type RouteKey = `${Surface} ${string}`

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Every POST/PUT/PATCH/DELETE route the Backend and Frontend APIs declare, as `SURFACE METHOD path`.
 * GETs are left out, though two of them change state: `GET /v1/client/handshake?__authn_ticket=`
 * opens magic links (completing sign-ins and sign-ups, verifying /v1/me addresses) and polling a
 * dns_txt domain challenge verifies the domain.
 */
export function mutatingRoutes(): RouteKey[] {
  const keys: RouteKey[] = []
  for (const [surface, app] of [
    ['BAPI', createBapi()],
    ['FAPI', createFapi()],
  ] as const) {
    for (const r of app.routes)
      if (MUTATING.has(r.method.toUpperCase())) keys.push(`${surface} ${r.method.toUpperCase()} ${r.path}`)
  }
  return [...new Set(keys)]
}

/** Development test identifiers (DESIGN.md): nothing is sent and the code is always this. */
export const TEST_CODE = '424242'
export const PASSWORD = 'correct horse battery'

let seq = 0
const next = () => ++seq

export interface Reply {
  status: number
  body: any
}

async function parse(res: Response): Promise<Reply> {
  const text = await res.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body }
}

const is2xx = (status: number) => status >= 200 && status < 300

/** Fails with the answer's body unless it is a 2xx: a scenario whose request failed cannot pass. */
function expect2xx(what: string, r: Reply) {
  const summary = is2xx(r.status)
    ? 'ok'
    : `${what} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 600)}`
  expect(summary).toBe('ok')
}

export interface Person {
  b: Browser
  user: any
  sid: string
}

/** One harness (with its instance settings) shared by the scenarios of an area. */
export interface Stage {
  h: Harness
  /** A unique development test address (`…+authn_test@…`: code 424242, nothing sent). */
  email(tag?: string): string
  /** A unique development test number (`+1 XXX 555 01XX`: code 424242, nothing sent). */
  phone(): string
  /** A unique lower-case token for names, keys and slugs. */
  unique(prefix: string): string
  /** A setup call on the Backend API: must be 2xx; answers the body. */
  bapi(method: string, path: string, body?: Record<string, unknown> | unknown[]): Promise<any>
  /** A setup call through a browser: must be 2xx; answers the envelope's `response`. */
  fapi(b: Browser, method: string, path: string, body?: Record<string, unknown>): Promise<any>
  browser(): Browser
  /** A user made over BAPI with a verified test address and the shared password. */
  user(extra?: Record<string, unknown>): Promise<any>
  /** Signs `user` in on a fresh browser (password, one call). */
  signIn(user: any): Promise<Person>
  /** A new user signed in on a fresh browser. */
  signedIn(extra?: Record<string, unknown>): Promise<Person>
  close(): void
}

export async function openStage(settings?: Record<string, unknown>): Promise<Stage> {
  const h = await createHarness({ delivery: recordingDelivery() })
  const stage: Stage = {
    h,
    email: (tag = 'user') => `${tag}${next()}+authn_test@example.com`,
    phone: () => {
      const n = next()
      return `+1${200 + Math.floor(n / 100)}55501${String(n % 100).padStart(2, '0')}`
    },
    unique: (prefix) => `${prefix}${next()}`,
    async bapi(method, path, payload) {
      const r = await parse(await h.bapi(method, path, payload))
      expect2xx(`setup BAPI ${method} ${path}`, r)
      return r.body
    },
    async fapi(b, method, path, payload) {
      const r = await b.json(method, path, payload)
      expect2xx(`setup FAPI ${method} ${path}`, r)
      return r.body.response
    },
    browser: () => browser(h),
    user: (extra = {}) =>
      stage.bapi('POST', '/v1/users', { email_address: [stage.email()], password: PASSWORD, ...extra }),
    async signIn(user) {
      const b = browser(h)
      const si = await stage.fapi(b, 'POST', '/v1/client/sign-ins', {
        identifier: user.email_addresses[0].email_address,
        password: PASSWORD,
        strategy: 'password',
      })
      expect(si.status).toBe('complete')
      return { b, user, sid: si.created_session_id }
    },
    async signedIn(extra) {
      return stage.signIn(await stage.user(extra))
    },
    close: () => h.close(),
  }
  if (settings) await stage.bapi('PATCH', '/v1/instance', settings)
  return stage
}

/** The request under test: exactly one per scenario, on the route the scenario is for. */
export interface Act {
  bapi(method: string, path: string, body?: Record<string, unknown> | unknown[]): Promise<any>
  /** Answers the envelope's `response`. */
  fapi(b: Browser, method: string, path: string, body?: Record<string, unknown>): Promise<any>
}

export interface Outcome {
  route: RouteKey
  /** Types of the event rows the request wrote, in the order written. */
  emitted: string[]
}

const eventRows = (h: Harness) =>
  h.ctx((ctx) =>
    ctx.client.query<{ id: string; type: string }, []>('select id, type from events order by rowid').all(),
  )

/** `/v1/users/:id` as a pattern for concrete paths. */
const pathPattern = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`)

/**
 * Runs a scenario: its setup calls go through `stage`, its request under test through the act,
 * which must be a 2xx on the route `key` names. Answers the events that request wrote.
 */
export async function drive(
  stage: Stage,
  key: RouteKey,
  scenario: (s: Stage, act: Act) => Promise<unknown>,
): Promise<Outcome> {
  const [surface, method, path] = key.split(' ') as [Surface, string, string]
  const pattern = pathPattern(path)
  const seen: { emitted?: string[] } = {}
  async function perform(via: Surface, m: string, p: string, send: () => Promise<Reply>) {
    if (seen.emitted) throw new Error(`the scenario for ${key} made a second request under test (${m} ${p})`)
    const bare = p.split('?')[0]!
    if (via !== surface || m.toUpperCase() !== method || !pattern.test(bare))
      throw new Error(`the scenario for ${key} drove ${via} ${m} ${p} instead`)
    const before = new Set(eventRows(stage.h).map((e) => e.id))
    const r = await send()
    expect2xx(key, r)
    seen.emitted = eventRows(stage.h)
      .filter((e) => !before.has(e.id))
      .map((e) => e.type)
    return r
  }
  const act: Act = {
    bapi: async (m, p, payload) =>
      (await perform('BAPI', m, p, async () => parse(await stage.h.bapi(m, p, payload)))).body,
    fapi: async (b, m, p, payload) =>
      (await perform('FAPI', m, p, () => b.json(m, p, payload))).body.response,
  }
  await scenario(stage, act)
  if (!seen.emitted) throw new Error(`the scenario for ${key} never made its request under test`)
  return { route: key, emitted: seen.emitted }
}

// ---- TOTP (RFC 6238: SHA-1, 6 digits, 30 s), for enrolling authenticators ---------------------

function base32(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch)
    if (v < 0) throw new Error(`not base32: ${secret}`)
    bits += v.toString(2).padStart(5, '0')
  }
  const bytes: number[] = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(Number.parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

/** The code an authenticator app shows for the secret of an `otpauth://` URI at `atMs`. */
export function totpCode(otpauthUri: string, atMs: number): string {
  const secret = new URL(otpauthUri).searchParams.get('secret')
  if (!secret) throw new Error(`no secret in ${otpauthUri}`)
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)))
  const mac = createHmac('sha1', base32(secret)).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0xf
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}
