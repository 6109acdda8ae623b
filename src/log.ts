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
  '*.custom_signing_key',
  '*.secret',
]

export interface AccessLine {
  trace_id: string
  method: string
  path: string
  status: number
  ms: number
  surface: string | undefined
  env_id: string | undefined
  ip: string | null
}

/**
 * One line per request, in pino's NDJSON shape on the same stream. It bypasses pino because
 * redaction made each line cost ~13 µs, more than serving a JWKS; its fields are fixed and carry
 * no secrets by construction (the path, never the query string).
 */
export type AccessLog = (line: AccessLine) => void

export interface Logging {
  log: Logger
  access: AccessLog
}

/**
 * stdout, written every 100 ms, when 64 KiB have gathered, and on exit. Bun's stdout writer
 * writes through to a pipe or /dev/null (one write(2) per line under load, seen with strace),
 * so lines are gathered here and handed to it together. Lines from a crash's last 100 ms may
 * be lost, as with any asynchronous logger.
 */
export function stdoutDestination(): pino.DestinationStream & { flush(done?: () => void): void } {
  const sink = Bun.stdout.writer()
  let pending: string[] = []
  let bytes = 0
  const flush = () => {
    if (pending.length === 0) return
    sink.write(pending.length === 1 ? pending[0]! : pending.join(''))
    pending = []
    bytes = 0
    sink.flush()
  }
  const timer = setInterval(flush, 100)
  timer.unref()
  process.once('exit', flush)
  return {
    write: (line: string) => {
      pending.push(line)
      bytes += line.length
      if (bytes >= 64 * 1024) flush()
    },
    // pino's logger.flush(cb) hands its callback here.
    flush: (done?: () => void) => {
      flush()
      done?.()
    },
  }
}

/** `worker`: this process's index in a server group (`serve --workers`), on every line. */
export function createLogging(level: string, destination?: pino.DestinationStream, worker?: number): Logging {
  const dest = destination ?? stdoutDestination()
  const log = createLogger(level, dest, worker)
  const on = log.isLevelEnabled('info')
  const head = worker === undefined ? '' : `"worker":${worker},`
  return {
    log,
    access: on
      ? (line) =>
          dest.write(
            `{"level":30,"time":${Date.now()},${head}"msg":"request",${JSON.stringify(line).slice(1)}\n`,
          )
      : () => {},
  }
}

export function createLogger(level: string, destination?: pino.DestinationStream, worker?: number): Logger {
  return pino(
    {
      level,
      base: worker === undefined ? undefined : { worker },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    destination ?? stdoutDestination(),
  )
}

export const silentLogger: Logger = pino({ level: 'silent' })
export const silentAccess: AccessLog = () => {}
