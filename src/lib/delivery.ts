import { createTransport } from 'nodemailer'

/** Process-wide transports; each env supplies its own sender in its settings. */
export interface Delivery {
  email: ((m: { from: string; to: string; subject: string; text: string }) => Promise<void>) | null
  sms: ((m: { from: string; to: string; body: string }) => Promise<void>) | null
}

export function createDelivery(opts: {
  smtpUrl?: string
  smsApiUrl: string
  smsAccountSid?: string
  smsAuthToken?: string
}): Delivery {
  const transport = opts.smtpUrl ? createTransport(opts.smtpUrl) : null
  const { smsAccountSid: sid, smsAuthToken: token } = opts
  return {
    email: transport
      ? async (m) => {
          await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text })
        }
      : null,
    // Twilio's Messages API: form-encoded To/From/Body, basic auth with the account SID.
    sms:
      sid && token
        ? async (m) => {
            const res = await fetch(
              `${opts.smsApiUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${sid}/Messages.json`,
              {
                method: 'POST',
                headers: {
                  authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`,
                  'content-type': 'application/x-www-form-urlencoded',
                },
                body: new URLSearchParams({ To: m.to, From: m.from, Body: m.body }),
                signal: AbortSignal.timeout(15_000),
              },
            )
            if (!res.ok) throw new Error(`SMS API answered ${res.status}`)
            await res.body?.cancel()
          }
        : null,
  }
}

export const noDelivery: Delivery = { email: null, sms: null }
