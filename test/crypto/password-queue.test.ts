// The hashing queue's fairness between envs, its per-env cap and its deadlines, with injected
// work the test finishes by hand and deadlines the test fires by hand: nothing here waits on time.
import { describe, expect, it } from 'bun:test'
import { createPasswordHasher, type PasswordWork, type Timer } from '../../src/crypto/passwords'

const DIGEST = '$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo'
const BCRYPT_31 = '$2b$31$abcdefghijklmnopqrstuuVvB0sN2yQ1lCkC0HgYd7JcG8xN8iHKe'

/** Work that starts when the queue starts it and ends when the test says so; labelled by password. */
function controlledWork() {
  const started: { label: string; finish(result?: boolean): void }[] = []
  const work: PasswordWork = {
    hash: (password) =>
      new Promise((resolve) => started.push({ label: password, finish: () => resolve(DIGEST) })),
    verify: (password) =>
      new Promise((resolve) => started.push({ label: password, finish: (ok = true) => resolve(ok) })),
  }
  const job = (label: string) => {
    const found = started.find((s) => s.label === label)
    if (!found) throw new Error(`${label} has not started`)
    return found
  }
  return { work, started, job, labels: () => started.map((s) => s.label) }
}

/** Deadlines the test fires; one per job, in the order jobs were asked for. */
function manualTimer() {
  const timers: { ms: number; fire(): void; cancelled: boolean }[] = []
  const timer: Timer = (ms, fire) => {
    const t = { ms, fire, cancelled: false }
    timers.push(t)
    return () => {
      t.cancelled = true
    }
  }
  return { timer, timers }
}

/** One turn of the event loop, for the queue's promise handlers to run (no time passes). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

function setup(opts: { concurrency: number; maxQueuePerEnv?: number; maxQueue?: number }) {
  const w = controlledWork()
  const t = manualTimer()
  const logs: Record<string, unknown>[] = []
  const hasher = createPasswordHasher({
    ...opts,
    deadlineMs: 5000,
    work: w.work,
    timer: t.timer,
    log: { warn: (fields) => logs.push(fields) },
  })
  return { ...w, ...t, logs, hasher }
}

/** Asks env `env` to verify `n` passwords labelled env0, env1, …; the promises are kept. */
const flood = (hasher: ReturnType<typeof setup>['hasher'], env: string, n: number) =>
  Array.from({ length: n }, (_, i) => hasher.forEnv(env).verify(`${env}${i}`, DIGEST))

describe('fairness between envs', () => {
  it("starts B's check at the first slot A frees, however long A's queue is", async () => {
    const q = setup({ concurrency: 2 })
    const a = flood(q.hasher, 'A', 10)
    expect(q.labels()).toEqual(['A0', 'A1'])
    const b = q.hasher.forEnv('B').verify('B0', DIGEST)
    expect(q.hasher.pending).toBe(11)
    expect(q.hasher.forEnv('A').pending).toBe(10)
    expect(q.hasher.forEnv('B').pending).toBe(1)

    q.job('A0').finish()
    expect(await a[0]).toBe(true)
    // The first turnover went to B, not to A's eight waiting checks.
    expect(q.labels()).toEqual(['A0', 'A1', 'B0'])
    q.job('B0').finish(false)
    expect(await b).toBe(false)
    q.job('A1').finish()
    await flush()
    expect(q.labels()).toEqual(['A0', 'A1', 'B0', 'A2', 'A3'])
    for (const label of ['A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9']) {
      q.job(label).finish()
      await flush()
    }
    expect(await Promise.all(a)).toEqual(Array(10).fill(true))
    expect(q.hasher.pending).toBe(0)
  })

  it('takes turns between waiting envs, a newcomer first', async () => {
    const q = setup({ concurrency: 1 })
    flood(q.hasher, 'A', 5)
    flood(q.hasher, 'B', 5)
    q.hasher.forEnv('C').verify('C0', DIGEST)
    for (let i = 0; i < 10; i++) {
      q.started.at(-1)?.finish()
      await flush()
    }
    expect(q.labels()).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'B4'])
  })

  it('gives a second env its half of the slots as A’s running checks end', async () => {
    const q = setup({ concurrency: 4 })
    flood(q.hasher, 'A', 10)
    flood(q.hasher, 'B', 10)
    expect(q.labels()).toEqual(['A0', 'A1', 'A2', 'A3'])
    q.job('A0').finish()
    await flush()
    q.job('A1').finish()
    await flush()
    // B now runs ceil(4 / 2) = 2 and A 2; from here a slot A frees goes back to A.
    expect(q.labels()).toEqual(['A0', 'A1', 'A2', 'A3', 'B0', 'B1'])
    q.job('A2').finish()
    await flush()
    expect(q.labels().at(-1)).toBe('A4')
  })
})

describe('queue caps', () => {
  it("refuses an env's check beyond its own waiting line with 429, other envs still queue", async () => {
    const q = setup({ concurrency: 1, maxQueuePerEnv: 2 })
    const a = flood(q.hasher, 'A', 3) // A0 runs, A1 and A2 wait
    const refused = q.hasher.forEnv('A').verify('A3', DIGEST)
    await expect(refused).rejects.toMatchObject({
      status: 429,
      items: [{ code: 'too_many_requests' }],
      headers: { 'retry-after': '1' },
    })
    const hashed = q.hasher.forEnv('A').hash('A4')
    await expect(hashed).rejects.toMatchObject({ status: 429 })
    const b = q.hasher.forEnv('B').verify('B0', DIGEST)
    expect(q.hasher.forEnv('B').pending).toBe(1)
    expect(q.hasher.forEnv('A').pending).toBe(3)

    for (const label of ['A0', 'B0', 'A1', 'A2']) {
      q.job(label).finish()
      await flush()
    }
    expect(await Promise.all([...a, b])).toEqual([true, true, true, true])
    expect(q.labels()).not.toContain('A3')
  })

  it('still caps the whole process', async () => {
    const q = setup({ concurrency: 1, maxQueue: 2 })
    flood(q.hasher, 'A', 2)
    flood(q.hasher, 'B', 1)
    await expect(q.hasher.forEnv('C').verify('C0', DIGEST)).rejects.toMatchObject({ status: 429 })
    expect(q.hasher.forEnv('C').pending).toBe(0)
  })
})

describe('deadlines', () => {
  it('drops a check still waiting at its deadline and answers its caller 503', async () => {
    const q = setup({ concurrency: 1 })
    const [a0, a1] = flood(q.hasher, 'A', 2)
    expect(q.timers.map((t) => t.ms)).toEqual([5000, 5000])
    q.timers[1]!.fire()
    await expect(a1!).rejects.toMatchObject({
      status: 503,
      items: [{ code: 'service_unavailable' }],
      headers: { 'retry-after': '5' },
    })
    expect(q.hasher.pending).toBe(1)
    q.job('A0').finish()
    expect(await a0).toBe(true)
    await flush()
    // A1 never ran: nobody was waiting for its answer any more.
    expect(q.labels()).toEqual(['A0'])
    expect(q.hasher.pending).toBe(0)
    expect(q.timers[0]!.cancelled).toBe(true)
  })

  it('answers a running check 503 at its deadline but keeps its slot until the work ends', async () => {
    const q = setup({ concurrency: 1 })
    const slow = q.hasher.forEnv('A').hash('A0')
    const b = q.hasher.forEnv('B').verify('B0', DIGEST)
    q.timers[0]!.fire()
    await expect(slow).rejects.toMatchObject({ status: 503 })
    await flush()
    // The worker thread is still busy with A0: B waits, and A0 still counts against A's share.
    expect(q.labels()).toEqual(['A0'])
    expect(q.hasher.forEnv('A').pending).toBe(1)
    expect(q.hasher.pending).toBe(2)
    q.job('A0').finish()
    await flush()
    expect(q.labels()).toEqual(['A0', 'B0'])
    q.job('B0').finish()
    expect(await b).toBe(true)
    expect(q.hasher.pending).toBe(0)
  })
})

describe('stored digests out of bounds', () => {
  it('fail verification without taking a slot, logged once per env and kind', async () => {
    const q = setup({ concurrency: 1 })
    const a = q.hasher.forEnv('A')
    expect(await a.verify('anything', BCRYPT_31)).toBe(false)
    expect(await a.verify('anything else', BCRYPT_31)).toBe(false)
    const huge = '$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo'
    expect(await a.verify('pw', huge)).toBe(false)
    expect(await q.hasher.forEnv('B').verify('pw', BCRYPT_31)).toBe(false)
    expect(await a.verify('pw', 'not a digest')).toBe(false)
    expect(q.labels()).toEqual([])
    expect(q.hasher.pending).toBe(0)
    expect(q.logs.map((l) => [l.env_id, l.digest_params])).toEqual([
      ['A', { algorithm: 'bcrypt', cost: 31 }],
      ['A', { algorithm: 'argon2id', version: 19, m: 1048576, t: 2, p: 1 }],
      ['B', { algorithm: 'bcrypt', cost: 31 }],
      ['A', 'unreadable'],
    ])
    expect(q.logs[0]!.reason).toBe(
      'password_digest has bcrypt cost 31; this server accepts bcrypt costs 4 to 14.',
    )
  })
})
