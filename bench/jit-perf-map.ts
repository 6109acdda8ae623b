/**
 * `bun bench/jit-perf-map.ts DIR`: turns the JIT dumps JavaScriptCore wrote into DIR
 * (`BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=DIR`, as `BENCH_PERF_DIR` sets) into
 * `/tmp/perf-PID.map` files, which `perf report` reads to name JIT frames. (`perf inject --jit`
 * does not recognise JavaScriptCore's `jit-TID-PID.dump` file names.) Profile one target per
 * server start for the names to be right: see latestOnly.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const JIT_CODE_LOAD = 0

interface Load {
  start: bigint
  size: bigint
  name: string
}

/**
 * The JIT reuses freed code memory, so later loads may cover earlier ones: the later wins (a
 * profile is taken after its target's warm-up, when its code is among the newest).
 */
function latestOnly(loads: Load[]): string[] {
  const kept: Load[] = []
  for (const l of loads.reverse()) {
    const end = l.start + l.size
    if (!kept.some((k) => l.start < k.start + k.size && k.start < end)) kept.push(l)
  }
  return kept.map((l) => `${l.start.toString(16)} ${l.size.toString(16)} ${l.name}`)
}

/** jitdump: a header, then records of {id, size, timestamp, body}; code loads name a range. */
function symbols(file: string): string[] {
  const b = readFileSync(file)
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const loads: Load[] = []
  let off = v.getUint32(8, true)
  while (off + 16 <= b.length) {
    const id = v.getUint32(off, true)
    const size = v.getUint32(off + 4, true)
    if (size === 0) break
    if (id === JIT_CODE_LOAD) {
      // body: pid u32, tid u32, vma u64, code_addr u64, code_size u64, code_index u64, name\0, code
      const codeAddr = v.getBigUint64(off + 32, true)
      const codeSize = v.getBigUint64(off + 40, true)
      const start = off + 56
      const end = b.indexOf(0, start)
      loads.push({ start: codeAddr, size: codeSize, name: b.toString('utf8', start, end) })
    }
    off += size
  }
  return latestOnly(loads)
}

const dir = process.argv[2] ?? '.'
for (const name of readdirSync(dir)) {
  const m = /^jit-(?:\d+-)?(\d+)\.dump$/.exec(name)
  if (!m) continue
  const lines = symbols(join(dir, name))
  writeFileSync(`/tmp/perf-${m[1]}.map`, `${lines.join('\n')}\n`)
  console.log(`${name}: ${lines.length} functions -> /tmp/perf-${m[1]}.map`)
}
