import { generateSecret, generateURI, verifySync } from 'otplib'

/**
 * RFC 6238 as every authenticator app expects it: SHA-1, 6 digits, 30-second steps. One step
 * of clock skew either way is accepted, and a code is accepted once: the step it matched is
 * recorded and later codes must come from a newer step.
 */
export const TOTP_PERIOD_S = 30

export const newTotpSecret = () => generateSecret({ length: 20 })

export const totpUri = (issuer: string, label: string, secret: string) =>
  generateURI({ issuer, label, secret, algorithm: 'sha1', digits: 6, period: TOTP_PERIOD_S })

/** The matched time step, or null for a wrong, stale or replayed code. */
export function checkTotp(
  secret: string,
  code: string,
  nowMs: number,
  afterTimeStep: number | null,
): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const result = verifySync({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOTP_PERIOD_S,
    ...(afterTimeStep !== null ? { afterTimeStep } : {}),
  })
  return result.valid && 'timeStep' in result ? (result.timeStep as number) : null
}
