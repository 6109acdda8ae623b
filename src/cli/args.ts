/** Minimal argv parsing: positionals, `--flag value`, `--flag=value`, repeated flags, booleans. */
export interface Args {
  positionals: string[]
  flags: Map<string, string[]>
  has(name: string): boolean
  get(name: string): string | undefined
  all(name: string): string[]
}

export function parseArgs(argv: string[], booleans: ReadonlySet<string>): Args {
  const positionals: string[] = []
  const flags = new Map<string, string[]>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    let value: string
    if (eq !== -1) value = arg.slice(eq + 1)
    else if (booleans.has(name)) value = 'true'
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new Error(`--${name} needs a value`)
      value = next
      i++
    }
    flags.set(name, [...(flags.get(name) ?? []), value])
  }
  return {
    positionals,
    flags,
    has: (name) => flags.has(name),
    get: (name) => flags.get(name)?.at(-1),
    all: (name) => flags.get(name) ?? [],
  }
}
