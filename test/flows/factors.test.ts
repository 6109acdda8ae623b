import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { FACTORS, VERIFIERS } from '../../src/flows/factors'
import { FIRST_FACTORS, SECOND_FACTORS } from '../../src/tenancy/settings'

const root = join(import.meta.dir, '../..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

describe('the factor registry', () => {
  it('has one module per strategy and step', () => {
    const keys = FACTORS.map((f) => `${f.kind}:${f.strategy}`)
    expect(new Set(keys).size).toBe(keys.length)
    const verifiers = VERIFIERS.map((v) => `${v.verifies}:${v.strategy}`)
    expect(new Set(verifiers).size).toBe(verifiers.length)
  })

  it('implements every strategy the instance settings can enable', () => {
    for (const s of FIRST_FACTORS)
      expect(FACTORS.some((f) => f.kind === 'first' && f.strategy === s)).toBe(true)
    for (const s of SECOND_FACTORS)
      expect(FACTORS.some((f) => f.kind === 'second' && f.strategy === s)).toBe(true)
  })

  /**
   * The machines iterate the registry: a comparison with (or a lookup of) a strategy name
   * anywhere else is a branch the next factor would have to edit. The exceptions are not sign-in
   * factors: an organization domain's affiliation check (dns_txt or email_code), and the
   * settings rule that a required password is an enabled one.
   */
  it('is the only place that branches on a strategy name', () => {
    const names = [...new Set(FACTORS.map((f) => f.strategy))].join('|')
    const branch = new RegExp(
      `(?:[!=]==\\s*|case\\s+|\\.(?:includes|startsWith)\\()['"\`](${names})['"\`]|['"\`](${names})['"\`]\\s*[!=]==`,
    )
    const allowed = new Set(['src/domain/organizations/domains.ts', 'src/domain/instance/service.ts'])
    const offenders = sources(join(root, 'src'))
      .map((p) => relative(root, p))
      .filter((p) => !p.startsWith('src/flows/factors/') && !allowed.has(p))
      .filter((p) => branch.test(readFileSync(join(root, p), 'utf8')))
    expect(offenders).toEqual([])
  })
})
