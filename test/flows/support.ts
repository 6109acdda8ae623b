import { afterAll, expect } from 'bun:test'
import { type Browser, browser, recordingDelivery } from '../helpers/browser'
import { body, createHarness, type Harness, type TestEnv } from '../helpers/harness'

/** Shared by the identity suites: users, sign-ins and assertions on error envelopes. */
export const PASSWORD = 'correct horse battery'

let seq = 0
export const uniqueEmail = (tag = 'user') => `${tag}${++seq}-${Date.now() % 100000}@example.com`

export interface Reply {
  status: number
  body: any
  res: Response
}

/** Asserts a 4xx error envelope with the given code (and param name for form errors). */
export function expectError(r: Reply, status: number, code: string, param?: string) {
  const summary = `${r.status} ${JSON.stringify(r.body)?.slice(0, 400)}`
  expect(summary).toStartWith(`${status} `)
  expect(r.body?.errors?.[0]?.code).toBe(code)
  expect(typeof r.body?.trace_id).toBe('string')
  if (param !== undefined) expect(r.body.errors[0].meta?.param_name).toBe(param)
}

/** Asserts a 2xx and returns the body, showing the body when it is not. */
export function ok(r: Reply, status = 200) {
  expect(`${r.status} ${r.status === status ? '' : JSON.stringify(r.body)?.slice(0, 400)}`).toBe(`${status} `)
  return r.body
}

export async function bapiJson(
  h: Harness,
  method: string,
  path: string,
  payload?: Record<string, unknown> | unknown[],
  env?: TestEnv,
): Promise<Reply> {
  const res = await h.bapi(method, path, payload, env ? { env } : undefined)
  const text = await res.text()
  let parsed: any
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: res.status, body: parsed, res }
}

export async function patchInstance(h: Harness, patch: Record<string, unknown>, env?: TestEnv) {
  return ok(await bapiJson(h, 'PATCH', '/v1/instance', patch, env))
}

/** A user made through the Backend API (identifiers verified), with the shared password. */
export async function createUser(
  h: Harness,
  extra: Record<string, unknown> = {},
  env?: TestEnv,
): Promise<any> {
  const email = uniqueEmail()
  return ok(
    await bapiJson(h, 'POST', '/v1/users', { email_address: [email], password: PASSWORD, ...extra }, env),
  )
}
export const emailOf = (u: any): string => u.email_addresses[0].email_address

/** One-shot password sign-in; returns the new session id. */
export async function signIn(b: Browser, identifier: string, password = PASSWORD): Promise<string> {
  const r = await b.json('POST', '/v1/client/sign-ins', { identifier, password, strategy: 'password' })
  const out = ok(r)
  expect(out.response.status).toBe('complete')
  return out.response.created_session_id
}

/** A fresh browser signed in as a new user. */
export async function signedIn(h: Harness, env?: TestEnv, extra: Record<string, unknown> = {}) {
  const user = await createUser(h, extra, env)
  const b = browser(h, env ?? h.env)
  const sid = await signIn(b, emailOf(user))
  return { b, user, sid }
}

export async function events(h: Harness, type: string, env?: TestEnv): Promise<any[]> {
  return (
    await body(await h.bapi('GET', `/v1/events?type=${type}&limit=100`, undefined, env ? { env } : undefined))
  ).data
}

export async function messages(h: Harness, env?: TestEnv): Promise<any[]> {
  return (await body(await h.bapi('GET', '/v1/messages?limit=100', undefined, env ? { env } : undefined)))
    .data
}

/** path + query of an absolute URL (links in emails point at the env's frontend host). */
export const pathOf = (url: string) => {
  const u = new URL(url)
  return u.pathname + u.search
}

export const row = <T = any>(h: Harness, sql: string, ...params: unknown[]): T =>
  h.ctx((ctx) => ctx.client.query(sql).get(...(params as never[]))) as T

/**
 * A fresh harness (with a recording delivery) per test, all closed after the file: call once at
 * the top of a test file.
 */
export function freshHarnesses() {
  const open: Harness[] = []
  afterAll(() => {
    for (const h of open) h.close()
  })
  return async function fresh() {
    const delivery = recordingDelivery()
    const h = await createHarness({ delivery })
    open.push(h)
    return { h, delivery }
  }
}
