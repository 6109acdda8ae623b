#!/usr/bin/env node
// Architecture metrics for the closing notes of restructuring work (not part of CI):
//   node scripts/arch-metrics.mjs
// - cross-capability table writes: insert/update/delete on a table declared in another
//   capability's schema.ts (src/domain/<cap>/schema.ts), counted per call site;
// - strategy literals: quoted sign-in strategy names outside the factor modules
//   (src/flows/factors/) and outside settings/wire schemas, where they are data, not branches;
// - the largest source file.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (p.endsWith('.ts')) files.push(p)
  }
}
walk(join(root, 'src'))
const rel = (p) => relative(root, p)
const capabilityOf = (p) => rel(p).match(/^src\/domain\/([^/]+)\//)?.[1] ?? null
// Outside src/domain a folder is its own owner (src/tenancy owns the environment tables).
const ownerOf = (p) => capabilityOf(p) ?? rel(p).replace(/\/[^/]+$/, '')

// table variable -> owning capability
const owner = new Map()
for (const f of files) {
  if (!f.endsWith('/schema.ts')) continue
  const cap = ownerOf(f)
  for (const m of readFileSync(f, 'utf8').matchAll(/export const (\w+) = sqliteTable\(/g))
    owner.set(m[1], cap)
}

let crossWrites = 0
const crossDetail = []
for (const f of files) {
  const mine = ownerOf(f)
  const text = readFileSync(f, 'utf8')
  for (const m of text.matchAll(/\.(insert|update|delete)\((\w+)\)/g)) {
    const table = m[2]
    const cap = owner.get(table)
    if (cap && cap !== mine) {
      crossWrites++
      crossDetail.push(`${rel(f)}: ${m[1]} ${table} (owned by ${cap})`)
    }
  }
}

const STRATEGIES = [
  'password',
  'email_code',
  'email_link',
  'phone_code',
  'reset_password_email_code',
  'reset_password_phone_code',
  'ticket',
  'totp',
  'backup_code',
]
const literal = new RegExp(`['"\`](${STRATEGIES.join('|')})['"\`]`, 'g')
let strategyLiterals = 0
const strategyByFile = new Map()
for (const f of files) {
  const r = rel(f)
  if (r.startsWith('src/flows/factors/')) continue
  if (/\/(schema|model|settings)\.ts$/.test(r)) continue
  const n = [...readFileSync(f, 'utf8').matchAll(literal)].length
  if (n) {
    strategyLiterals += n
    strategyByFile.set(r, n)
  }
}

// Branches on a strategy: a strategy name compared (=== / !== / case) or looked up in a list.
const branch = new RegExp(
  `(?:[!=]==\\s*|case\\s+|\\.(?:includes|startsWith)\\()['"\`](${STRATEGIES.join('|')})['"\`]|['"\`](${STRATEGIES.join('|')})['"\`]\\s*[!=]==`,
  'g',
)
let strategyBranches = 0
const branchByFile = new Map()
for (const f of files) {
  const r = rel(f)
  if (r.startsWith('src/flows/factors/')) continue
  const n = [...readFileSync(f, 'utf8').matchAll(branch)].length
  if (n) {
    strategyBranches += n
    branchByFile.set(r, n)
  }
}

const sizes = files
  .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length])
  .sort((a, b) => b[1] - a[1])

const verbose = process.argv.includes('--verbose')
console.log(`cross-capability table writes: ${crossWrites}`)
if (verbose) for (const d of crossDetail) console.log(`  ${d}`)
console.log(`strategy literals outside src/flows/factors/: ${strategyLiterals}`)
if (verbose) for (const [f, n] of strategyByFile) console.log(`  ${f}: ${n}`)
console.log(`branches on a strategy name outside src/flows/factors/: ${strategyBranches}`)
if (verbose) for (const [f, n] of branchByFile) console.log(`  ${f}: ${n}`)
console.log(
  `largest files: ${sizes
    .slice(0, 5)
    .map(([f, n]) => `${f} (${n})`)
    .join(', ')}`,
)
console.log(`source files: ${files.length}, lines: ${sizes.reduce((s, [, n]) => s + n, 0)}`)
