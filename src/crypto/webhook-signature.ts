import { createHmac, randomBytes } from 'node:crypto'

/**
 * Standard Webhooks (and Svix) signing: `whsec_<base64 key>` secrets, and
 * `v1,<base64 HMAC-SHA256("<msg id>.<timestamp s>.<raw body>")>` signatures.
 */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`

export function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')
  return `v1,${mac}`
}

/** The three headers under both names: `webhook-*` (Standard Webhooks) and `svix-*` (existing verifiers). */
export function webhookHeaders(secret: string, msgId: string, timestampSeconds: number, body: string) {
  const signature = signWebhook(secret, msgId, timestampSeconds, body)
  const ts = String(timestampSeconds)
  return {
    'webhook-id': msgId,
    'webhook-timestamp': ts,
    'webhook-signature': signature,
    'svix-id': msgId,
    'svix-timestamp': ts,
    'svix-signature': signature,
  }
}
