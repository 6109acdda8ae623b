// Shared by the node bench drivers (measure.mjs, token-refresh.mjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname } from 'node:path'

export const need = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set (run the bench through its .sh driver)`)
  return v
}

export const int = (name, fallback) => {
  const n = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`)
  return n
}

/** One request to 127.0.0.1 with full control of the Host header (fetch forbids setting it). */
export function call(port, method, path, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timeout`)))
    req.end(body)
  })
}

/** utime+stime of a process in clock ticks (Linux /proc); null elsewhere. */
export function cpuTicks(pid) {
  if (!pid) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12]) // fields 14 and 15 of proc(5)
  } catch {
    return null
  }
}
export const TICKS_PER_SECOND = 100 // USER_HZ on every Linux build that matters

/** Rows of cells as aligned text: the first column left-aligned, the rest right-aligned. */
export function alignTable(table) {
  const widths = table[0].map((_, i) => Math.max(...table.map((line) => line[i].length)))
  return table
    .map((line) =>
      line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
    )
    .join('\n')
}

/** The machine and tools a run was measured with, recorded beside its results. */
export function machineInfo() {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    loadavg: os.loadavg(),
    bun: process.env.BENCH_BUN_VERSION ?? null,
    node: process.versions.node,
    autocannon: createRequire(import.meta.url)('autocannon/package.json').version,
  }
}

/** The one-line description printed above a results table. */
export const machineLine = (m) => `${m.cpus} x ${m.cpu_model ?? '?'}; bun ${m.bun ?? '?'}, node ${m.node}`

export function writeResults(path, result) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${path}`)
}
