import type { Subprocess } from 'bun'
import type { Logger } from '../log'

/**
 * A server group: the leader (the `serve` the operator started, holding the data root's lock)
 * starts `count - 1` member processes of the same program on the same port (SO_REUSEPORT: the
 * kernel spreads connections over them). Members serve requests only; the leader also runs
 * every env's jobs, and members hand it their kicks over IPC. A member that dies is started
 * again; a member whose leader is gone stops.
 */
export interface WorkerGroup {
  /** Resolves once every member is listening. */
  readonly ready: Promise<void>
  /** SIGTERM to every member; resolves once they have all exited. */
  stop(): Promise<void>
}

export type MemberMessage = { ready: true } | { kick: { env_id: string; job: string } }

const RESTART_MS = 1000
const READY_TIMEOUT_MS = 30_000

/** The command that runs this program again: the binary itself, or bun with the entry script. */
function selfCommand(): string[] {
  const compiled = Bun.main.startsWith('/$bunfs/') || Bun.main.includes('~BUN')
  return compiled ? [process.execPath] : [process.execPath, Bun.main]
}

export function startWorkers(opts: {
  count: number
  port: number
  dataDir: string
  /** The lock's group token: members join the root and the port with it. */
  group: string
  log: Logger
  onKick(envId: string, job: string): void
}): WorkerGroup {
  let stopping = false
  const members = new Map<number, Subprocess>()
  const waiting = new Map<number, () => void>()

  function spawn(index: number) {
    const proc = Bun.spawn([...selfCommand(), 'serve', '--port', String(opts.port), '--data', opts.dataDir], {
      stdin: 'ignore',
      stdout: 'inherit',
      stderr: 'inherit',
      env: {
        ...process.env,
        AUTHN_SERVE_GROUP: opts.group,
        AUTHN_WORKERS: String(opts.count),
        AUTHN_WORKER_INDEX: String(index),
      },
      ipc(message: MemberMessage) {
        if ('ready' in message) waiting.get(index)?.()
        else if ('kick' in message) opts.onKick(message.kick.env_id, message.kick.job)
      },
      onExit(_proc, code, signal) {
        members.delete(index)
        if (stopping) return
        opts.log.error({ worker: index, code, signal }, 'worker exited; starting it again')
        setTimeout(() => {
          if (!stopping) spawn(index)
        }, RESTART_MS).unref()
      },
    })
    members.set(index, proc)
  }

  const ready: Promise<void>[] = []
  for (let index = 1; index < opts.count; index++) {
    ready.push(
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${index} did not start within ${READY_TIMEOUT_MS / 1000} s`)),
          READY_TIMEOUT_MS,
        )
        waiting.set(index, () => {
          clearTimeout(timer)
          waiting.delete(index)
          resolve()
        })
      }),
    )
    spawn(index)
  }

  return {
    ready: Promise.all(ready).then(() => {}),
    async stop() {
      stopping = true
      const exits = [...members.values()].map((p) => {
        p.kill('SIGTERM')
        return p.exited
      })
      await Promise.all(exits)
    },
  }
}

/**
 * In a member: tells the leader it listens, and stops this process (through `shutdown`) as soon
 * as the leader is gone, however it ended, so that the port and the root are free for the next
 * server: the IPC channel closes at once; re-parenting is the backstop.
 */
export function joinGroup(shutdown: (reason: string) => void) {
  const leader = process.ppid
  process.send?.({ ready: true } satisfies MemberMessage)
  process.once('disconnect', () => shutdown('leader gone'))
  const timer = setInterval(() => {
    if (process.ppid !== leader) shutdown('leader gone')
  }, 500)
  timer.unref()
}
