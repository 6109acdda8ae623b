import { spawnSync } from 'node:child_process'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
export interface Family {
  name: string
  type: string
  samples: Sample[]
}

/**
 * Parses Prometheus text exposition with the Prometheus project's own Python client parser
 * (Debian python3-prometheus-client; `text_string_to_metric_families`), so the test reads
 * /metrics the way a scraper does, histograms with labels included. Throws on text it refuses.
 */
export function parseExposition(text: string): Family[] {
  const script = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}
        for s in f.samples]})
print(json.dumps(out))
`
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`the Prometheus parser refused the text: ${r.stderr || r.error}`)
  return JSON.parse(r.stdout) as Family[]
}

/** Samples with this exact name whose labels include `labels`. */
export function samples(families: Family[], name: string, labels: Record<string, string> = {}): Sample[] {
  return families
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

export const familyOf = (families: Family[], name: string) => {
  const f = families.find((m) => m.name === name)
  if (!f) throw new Error(`no metric ${name} in ${families.map((m) => m.name).join(', ')}`)
  return f
}
