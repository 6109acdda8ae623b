import pino, { type Logger } from 'pino'

export type { Logger }

/**
 * NDJSON to stdout, no transports (they break under Bun and in compiled binaries). Anything
 * that could carry a secret is censored by path, whatever a caller happens to log.
 */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'password',
  '*.password',
  '*.password_digest',
  'secret_key',
  '*.secret_key',
  '*.client_secret',
  '*.code',
  '*.token',
  '*.private_jwk',
]

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  )
}

export const silentLogger: Logger = pino({ level: 'silent' })
