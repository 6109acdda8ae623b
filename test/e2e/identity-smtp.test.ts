import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { SMTPServer } from 'smtp-server'
import { BUN, cli, freePort, ROOT, type Running, startServer } from './helpers'

/**
 * The real server process, a real SMTP server receiving its mail, and an HTTP client that keeps
 * cookies and follows links: sign-up by emailed code, sign-in by emailed link, the handshake,
 * and a backend verifying session tokens against the JWKS it fetches over HTTP.
 */
const inbox: Array<{ to: string; raw: string }> = []
/** Called on every delivered message (waitForMail's lookups). */
const onMail = new Set<() => void>()
let smtp: SMTPServer
let server: Running
let dir: string
let host: string
let secretKey: string
const APP = 'http://localhost:5173'

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => {
        raw += c.toString('utf8')
      })
      stream.on('end', () => {
        for (const rcpt of session.envelope.rcptTo) inbox.push({ to: rcpt.address, raw })
        callback()
        for (const look of [...onMail]) look()
      })
    },
  })
  const smtpPort = await freePort()
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve))
  dir = mkdtempSync(join(tmpdir(), 'authn-e2e-smtp-'))
  host = 'e2e-smtp.localhost'
  const made = await cli(['env', 'create', '--name', 'SMTP e2e', '--host', host, '--data', dir, '--json'])
  expect(made.code).toBe(0)
  secretKey = JSON.parse(made.stdout).secret_key
  process.env.AUTHN_SMTP_URL = `smtp://127.0.0.1:${smtpPort}`
  server = await startServer([BUN, `${ROOT}src/main.ts`], dir, await freePort())
  delete process.env.AUTHN_SMTP_URL
  const patched = await fetch(`${server.base}/v1/instance`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ first_factors: ['password', 'email_code', 'email_link'] }),
  })
  expect(patched.status).toBe(200)
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await new Promise<void>((resolve) => smtp.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
})

/** Decodes quoted-printable soft breaks and escapes enough to read codes and links. */
const readable = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=')

/** The first message to `to` after inbox[since], as soon as the SMTP server has it (10 s at most). */
function waitForMail(to: string, since: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const m = inbox.slice(since).find((x) => x.to === to)
      if (!m) return
      onMail.delete(look)
      clearTimeout(deadline)
      resolve(readable(m.raw))
    }
    const deadline = setTimeout(() => {
      onMail.delete(look)
      reject(new Error(`no mail for ${to}`))
    }, 10_000)
    onMail.add(look)
    look()
  })
}

/** An HTTP client with a cookie jar for the frontend host, like a browser tab. */
function tab() {
  let cookie: string | null = null
  const call = async (method: string, pathOrUrl: string, body?: Record<string, unknown>) => {
    const url = new URL(pathOrUrl, server.base)
    const target = `${server.base}${url.pathname}${url.search}`
    const headers: Record<string, string> = { host, origin: APP }
    if (cookie) headers.cookie = `__authn_client=${cookie}`
    if (body) headers['content-type'] = 'application/json'
    const res = await fetch(target, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      redirect: 'manual',
    })
    const set = res.headers.get('set-cookie')?.match(/__authn_client=([^;]*)/)
    if (set) cookie = set[1] || null
    return res
  }
  return {
    call,
    json: async (method: string, path: string, body?: Record<string, unknown>) =>
      (await (await call(method, path, body)).json()) as any,
  }
}

describe('identity over real HTTP and SMTP', () => {
  it('signs up with an emailed code and a backend verifies the session token from the JWKS', async () => {
    const browser = tab()
    const su = await browser.json('POST', '/v1/client/sign-ups', {
      email_address: 'grace@example.com',
      password: 'correct horse battery',
    })
    expect(su.response.unverified_fields).toEqual(['email_address'])
    const mark = inbox.length
    const ch = await browser.json('POST', `/v1/client/sign-ups/${su.response.id}/challenges`, {
      strategy: 'email_code',
    })
    const mail = await waitForMail('grace@example.com', mark)
    const code = mail.match(/verification code is (\d{6})/)?.[1]
    expect(code).toMatch(/^\d{6}$/)
    const done = await browser.json(
      'POST',
      `/v1/client/sign-ups/${su.response.id}/challenges/${ch.response.id}/answer`,
      { code },
    )
    expect(done.response.status).toBe('complete')
    const sid = done.response.created_session_id
    const minted = await browser.json('POST', `/v1/client/sessions/${sid}/tokens`)

    // The backend: fetches the JWKS over HTTP and verifies the token.
    const jwks = createRemoteJWKSet(new URL(`${server.base}/v1/jwks`), {
      headers: { authorization: `Bearer ${secretKey}` },
    })
    const { payload } = await jwtVerify(minted.jwt, jwks, {
      issuer: `http://${host}:${new URL(server.base).port}`,
    })
    expect(payload).toMatchObject({ sid, azp: APP, v: 2 })
    expect(payload.sub).toBe(done.response.created_user_id)
  }, 30_000)

  it('signs in from an emailed link in the same browser, then syncs a server-rendered app through the handshake', async () => {
    // Another address: one code or link per address every 30 s.
    const made = await fetch(`${server.base}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email_address: ['hopper@example.com'], password: 'correct horse battery' }),
    })
    expect(made.status).toBe(200)
    const browser = tab()
    const si = await browser.json('POST', '/v1/client/sign-ins', { identifier: 'hopper@example.com' })
    expect(si.response.status).toBe('needs_first_factor')
    const mark = inbox.length
    const ch = await browser.json('POST', `/v1/client/sign-ins/${si.response.id}/challenges`, {
      strategy: 'email_link',
      redirect_url: `${APP}/verified`,
    })
    expect(ch.response.strategy).toBe('email_link')
    const mail = await waitForMail('hopper@example.com', mark)
    const link = mail.match(/https?:\/\/\S+__authn_ticket=[A-Za-z0-9_%-]+/)?.[0]
    expect(link).toBeString()
    const opened = await browser.call('GET', link!)
    expect(opened.status).toBe(303)
    const back = new URL(opened.headers.get('location')!)
    expect(back.origin + back.pathname).toBe(`${APP}/verified`)
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const session = back.searchParams.get('__authn_created_session')
    expect(session).toMatch(/^sess_/)
    const polled = await browser.json(
      'GET',
      `/v1/client/sign-ins/${si.response.id}/challenges/${ch.response.id}`,
    )
    expect(polled.response.status).toBe('verified')

    // A server-rendered page of the app bounces through the handshake and gets its cookies.
    const hs = await browser.call(
      'GET',
      `/v1/client/handshake?redirect_url=${encodeURIComponent(`${APP}/dashboard`)}`,
    )
    expect(hs.status).toBe(307)
    const payloadJwt = new URL(hs.headers.get('location')!).searchParams.get('__authn_handshake')!
    const jwks = createRemoteJWKSet(new URL(`${server.base}/.well-known/jwks.json`), { headers: { host } })
    const { payload } = await jwtVerify(payloadJwt, jwks)
    const directives = payload.handshake as string[]
    const sessionCookie = directives.find((d) => d.startsWith('__authn_session='))!
    const sessionJwt = sessionCookie.slice('__authn_session='.length).split(';')[0]!
    const verified = await jwtVerify(sessionJwt, jwks)
    expect(verified.payload.sid).toBe(session)
  }, 30_000)
})
