import { expect } from 'bun:test'
import { browser } from '../../helpers/browser'
import { body, createHarness, type Harness } from '../../helpers/harness'

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'

export interface Reply {
  status: number
  body: any
  headers: Headers
}

/** An IdP talking to our /scim/v2 with one organization's bearer token. */
export interface Idp {
  token: string
  orgId: string
  call(method: string, path: string, payload?: unknown, headers?: Record<string, string>): Promise<Reply>
}

export async function scimHarness(): Promise<Harness> {
  const h = await createHarness()
  const r = await h.bapi('PATCH', '/v1/instance', {
    organizations: { enabled: true, max_allowed_memberships: 0 },
  })
  expect(r.status).toBe(200)
  return h
}

export async function bapi(h: Harness, method: string, path: string, payload?: Record<string, unknown>) {
  const res = await h.bapi(method, path, payload)
  const b = await body(res)
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(b)}`)
  return b
}

let seq = 0
export const unique = (prefix: string) => `${prefix}${++seq}`

/** A new organization with a SCIM token, and a client speaking SCIM with it. */
export async function idp(h: Harness, orgId?: string): Promise<Idp> {
  const id = orgId ?? (await bapi(h, 'POST', '/v1/organizations', { name: unique('Directory org ') })).id
  const issued = await bapi(h, 'POST', `/v1/organizations/${id}/scim/tokens`, { name: 'IdP' })
  return {
    token: issued.token,
    orgId: id,
    async call(method, path, payload, headers = {}) {
      const h2: Record<string, string> = { authorization: `Bearer ${issued.token}`, ...headers }
      let text: string | undefined
      if (payload !== undefined) {
        text = typeof payload === 'string' ? payload : JSON.stringify(payload)
        h2['content-type'] ??= 'application/scim+json'
      }
      const res = await h.request(`https://${h.env.host}/scim/v2${path}`, { method, headers: h2, body: text })
      const raw = await res.text()
      let parsed: any = raw
      try {
        parsed = raw ? JSON.parse(raw) : null
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers }
    },
  }
}

/** An RFC 7644 error body with the status as a string. */
export function expectScimError(r: Reply, status: number, scimType?: string) {
  expect({ status: r.status, type: r.headers.get('content-type') }).toEqual({
    status,
    type: 'application/scim+json',
  })
  expect(r.body.schemas).toEqual([ERROR])
  expect(r.body.status).toBe(String(status))
  expect(typeof r.body.detail).toBe('string')
  if (scimType) expect(r.body.scimType).toBe(scimType)
}

export const filter = (f: string) => `filter=${encodeURIComponent(f)}`

/** A user as Entra provisions one (reference §10 step 2). */
export const entraUser = (name: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER, ENTERPRISE],
  externalId: `${name}-ext`,
  userName: `${name}@contoso.example`,
  active: true,
  emails: [{ primary: true, type: 'work', value: `${name}@contoso.example` }],
  meta: { resourceType: 'User' },
  name: { formatted: `${name} Smith`, familyName: 'Smith', givenName: name },
  roles: [],
  ...extra,
})

/** Signs the user in through a sign-in token; answers the session id. */
export async function signInAs(h: Harness, userId: string): Promise<string> {
  const t = await bapi(h, 'POST', '/v1/sign-in-tokens', { user_id: userId })
  const r = await browser(h).json('POST', '/v1/client/sign-ins', { strategy: 'ticket', ticket: t.token })
  expect(r.status).toBe(200)
  return r.body.response.created_session_id
}

export async function eventTypes(h: Harness): Promise<string[]> {
  return (await bapi(h, 'GET', '/v1/events?limit=200')).data.map((e: any) => e.type)
}
