import { assertPublicHost, PrivateAddressError } from '../../lib/private-network'

export interface SendOptions {
  timeoutMs: number
  /** Response bytes read at most; the rest is dropped. */
  maxResponseBytes: number
  /** Refuse hosts that resolve to private or loopback addresses (production envs). */
  publicOnly: boolean
}

export interface SendResult {
  statusCode: number | null
  error: string | null
  latencyMs: number
  /** The receiver answered `webhook-delivery: abort-message` (Svix's convention): stop retrying. */
  abort: boolean
}

async function drain(res: Response, max: number) {
  const reader = res.body?.getReader()
  if (!reader) return
  let read = 0
  try {
    while (read <= max) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof PrivateAddressError) return err.message
  const e = err as { name?: string; message?: string; code?: string }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`
  return `network error: ${e?.code ?? e?.message ?? String(err)}`.slice(0, 500)
}

/**
 * One POST. Success is a 2xx within the timeout; redirects are not followed (a 3xx is a
 * failure, and following one could lead to a private address). Never throws.
 *
 * The address check resolves the name before fetch resolves it again, so a DNS answer that
 * changes in between (rebinding) is not caught; pinning the address needs a fetch that
 * accepts a resolved IP, which Bun's does not for TLS.
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: SendOptions,
): Promise<SendResult> {
  const started = performance.now()
  const signal = AbortSignal.timeout(opts.timeoutMs)
  let statusCode: number | null = null
  let error: string | null = null
  let abort = false
  try {
    if (opts.publicOnly) await assertPublicHost(new URL(url).hostname)
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'authn-webhooks/1', ...headers },
      redirect: 'manual',
      signal,
    })
    statusCode = res.status
    abort = res.headers.get('webhook-delivery')?.toLowerCase() === 'abort-message'
    await drain(res, opts.maxResponseBytes)
    if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`
  } catch (err) {
    error = describe(err, opts.timeoutMs)
  }
  return { statusCode, error, latencyMs: Math.round(performance.now() - started), abort }
}
