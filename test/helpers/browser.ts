import type { Delivery } from '../../src/lib/delivery'
import type { Harness, TestEnv } from './harness'

/** A browser on the env's frontend host: keeps the client cookie like a real one would. */
export interface Browser {
  cookie: string | null
  call(
    method: string,
    path: string,
    body?: Record<string, unknown> | string,
    headers?: Record<string, string>,
  ): Promise<Response>
  json<T = any>(
    method: string,
    path: string,
    body?: Record<string, unknown> | string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; res: Response }>
}

export function browser(h: Harness, env: TestEnv = h.env, origin?: string): Browser {
  const b: Browser = {
    cookie: null,
    async call(method, path, body, headers = {}) {
      const h2: Record<string, string> = { ...headers }
      if (b.cookie) h2.cookie = `__authn_client=${b.cookie}`
      if (origin) h2.origin = origin
      let payload: string | undefined
      if (typeof body === 'string') payload = body
      else if (body) {
        payload = JSON.stringify(body)
        h2['content-type'] ??= 'application/json'
      }
      const res = await h.request(`https://${env.host}${path}`, {
        method,
        headers: h2,
        body: payload,
        redirect: 'manual',
      })
      const set = res.headers.get('set-cookie')
      const m = set?.match(/__authn_client=([^;]*)/)
      if (m) b.cookie = m[1] || null
      return res
    },
    async json(method, path, body, headers) {
      const res = await b.call(method, path, body, headers)
      const text = await res.text()
      let parsed: any
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
      return { status: res.status, body: parsed, res }
    },
  }
  return b
}

export interface Sent {
  channel: 'email' | 'sms'
  to: string
  subject?: string
  text: string
  from: string
}

/** A delivery that records what would have gone out (the real SMTP path is tested in e2e). */
export function recordingDelivery(): Delivery & {
  sent: Sent[]
  lastCode(to: string): string
  lastLink(to: string): string
} {
  const sent: Sent[] = []
  const find = (to: string) => {
    const m = [...sent].reverse().find((s) => s.to === to)
    if (!m) throw new Error(`nothing was sent to ${to}`)
    return m
  }
  return {
    sent,
    email: async (m) => {
      sent.push({ channel: 'email', to: m.to, subject: m.subject, text: m.text, from: m.from })
    },
    sms: async (m) => {
      sent.push({ channel: 'sms', to: m.to, text: m.body, from: m.from })
    },
    lastCode: (to) => {
      const code = find(to).text.match(/\b(\d{6})\b/)?.[1]
      if (!code) throw new Error(`no code in the last message to ${to}`)
      return code
    },
    lastLink: (to) => {
      const link = find(to).text.match(/https?:\/\/\S+/)?.[0]
      if (!link) throw new Error(`no link in the last message to ${to}`)
      return link
    },
  }
}
