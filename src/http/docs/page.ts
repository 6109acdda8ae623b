type Doc = { info: { title: string; description: string }; paths: Record<string, Record<string, Operation>> }
type Operation = {
  summary?: string
  tags?: string[]
  parameters?: Array<{ name: string; in: string; required: boolean }>
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses?: Record<string, { content?: Record<string, { schema: unknown }> }>
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function section(doc: Doc, anchor: string) {
  const rows: string[] = []
  for (const [path, ops] of Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? [])
        .map((p) => `<code>${esc(p.name)}</code> <small>${p.in}${p.required ? ', required' : ''}</small>`)
        .join(', ')
      const body = op.requestBody?.content['application/json']?.schema
      const ok = op.responses?.['200']?.content?.['application/json']?.schema
      rows.push(`<details id="${anchor}-${esc(method)}-${esc(path)}"><summary><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> — ${esc(op.summary ?? '')}</summary>
${params ? `<p>Parameters: ${params}</p>` : ''}
${body ? `<p>Request body</p><pre>${esc(JSON.stringify(body, null, 2))}</pre>` : ''}
${ok ? `<p>Response 200</p><pre>${esc(JSON.stringify(ok, null, 2))}</pre>` : ''}
</details>`)
    }
  }
  return `<h2 id="${anchor}">${esc(doc.info.title)}</h2><p>${esc(doc.info.description)}</p>${rows.join('\n')}`
}

/** A readable reference rendered on the server from the OpenAPI documents (no scripts, no CDN). */
export function referencePage(docs: Array<{ doc: Doc; anchor: string; url: string }>) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authn API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
details{border-bottom:1px solid #e4e4e7;padding:.4rem 0}summary{cursor:pointer}pre{background:#f4f4f5;padding:.75rem;overflow:auto;font-size:12px}
.m{display:inline-block;min-width:4.2em;font:600 12px monospace;text-align:center;border-radius:4px;padding:1px 4px;color:#fff;background:#52525b}
.get{background:#2563eb}.post{background:#16a34a}.patch{background:#d97706}.put{background:#7c3aed}.delete{background:#dc2626}</style></head>
<body><h1>authn API reference</h1><p>Machine-readable: ${docs.map((d) => `<a href="${d.url}">${d.url}</a>`).join(', ')}.</p>
${docs.map((d) => section(d.doc, d.anchor)).join('\n')}</body></html>`
}
