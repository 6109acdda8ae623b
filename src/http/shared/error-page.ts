import { AppError } from '../../lib/errors'
import { type Presenter, reportUnexpected } from './presenter'

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

function titleFor(status: number): string {
  if (status >= 500) return 'Something went wrong'
  if (status === 404) return 'Page not found'
  if (status === 429) return 'Too many requests'
  return 'This request could not be completed'
}

const page = (title: string, text: string, traceId: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}main{max-width:32rem;margin:15vh auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}h1{font-size:1.25rem;margin:0 0 1rem}.trace{color:#656d76;font-size:.875rem}code{word-break:break-all}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(text)}</p>
<p class="trace">If you contact support, give them this trace id: <code>${escapeHtml(traceId)}</code></p>
</main>
</body>
</html>
`

/**
 * The presenter of browser-only routes (SAML ACS, OAuth/SSO callbacks, hosted pages): a person
 * is looking, so the answer is a small HTML page with the error's sentence (escaped) and the
 * trace id, never a stack, a schema or an error code list. Nothing on it loads or runs.
 */
export const htmlErrorResponse: Presenter = (error, state) => {
  let status = 500
  let text = 'Something went wrong on our side. The trace id below identifies it in our logs.'
  const headers = new Headers()
  if (error instanceof AppError) {
    status = error.status
    text = [...new Set(error.items.map((i) => i.long_message ?? i.message))].join(' ')
    for (const [k, v] of Object.entries(error.headers ?? {})) headers.set(k, v)
  } else {
    reportUnexpected(error, state)
  }
  headers.set('content-type', 'text/html; charset=utf-8')
  headers.set('cache-control', 'no-store')
  headers.set(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  )
  headers.set('x-content-type-options', 'nosniff')
  headers.set('referrer-policy', 'no-referrer')
  return new Response(page(titleFor(status), text, state.traceId), { status, headers })
}
