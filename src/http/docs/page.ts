import { VIEWER_PATH } from './viewer'

export interface DocumentSource {
  title: string
  slug: string
  url: string
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
/** JSON inside a <script>: `<` escaped so no string can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c')

/**
 * The /docs page: Scalar's API reference over our OpenAPI documents, with its selector to switch
 * between them. Everything it loads is same-origin: the viewer from VIEWER_PATH, the documents
 * from /openapi/*.json. Scalar's web fonts, telemetry, agent and MCP integrations (all hosted by
 * Scalar) are off, and no proxy is configured (try-it requests go straight to this server).
 * Without JavaScript the page still links the documents.
 */
export function referencePage(sources: DocumentSource[]) {
  const config = {
    sources,
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    documentDownloadType: 'json',
    hideDarkModeToggle: false,
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authn API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="app"><noscript><h1>authn API reference</h1><p>The OpenAPI documents: ${sources
    .map((s) => `<a href="${esc(s.url)}">${esc(s.title)}</a>`)
    .join(', ')}.</p></noscript></div>
<script src="${VIEWER_PATH}"></script>
<script>Scalar.createApiReference('#app', ${scriptJson(config)})</script>
</body></html>`
}
