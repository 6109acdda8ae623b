/**
 * Server-rendered pages a person sees on the env's frontend host (OAuth sign-in and consent).
 * No script, no external resource: everything is inline CSS and plain forms, so the pages work
 * without JavaScript and under a strict Content-Security-Policy.
 */

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

/** A tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString() {
    return this.value
  }
}

type Part = string | number | Html | null | undefined | false | Html[]

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!
  parts.forEach((p, i) => {
    if (Array.isArray(p)) out += p.map((x) => x.value).join('')
    else if (p instanceof Html) out += p.value
    else if (p !== null && p !== undefined && p !== false) out += escapeHtml(String(p))
    out += strings[i + 1]!
  })
  return new Html(out)
}

export interface Branding {
  /** The env's application name (instance settings). */
  applicationName: string
  logoUrl?: string | null
  primaryColor?: string
}

const DEFAULT_COLOR = '#2f54eb'

const css = (color: string) => `
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:12px}
header{display:flex;align-items:center;gap:.75rem;margin-bottom:1.25rem}header img{width:40px;height:40px;border-radius:8px}
h1{font-size:1.25rem;margin:0 0 .5rem}p{margin:.5rem 0}ul{padding-left:1.25rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=email],input[type=password]{width:100%;padding:.6rem .7rem;font:inherit;border:1px solid #8c959f;border-radius:6px}
input:focus-visible,button:focus-visible{outline:3px solid ${color};outline-offset:2px}
button{font:inherit;padding:.6rem 1rem;border-radius:6px;border:1px solid ${color};cursor:pointer;margin-top:1rem}
.primary{background:${color};color:#fff;width:100%}.secondary{background:#fff;color:${color};width:100%}
.actions{display:flex;gap:.75rem}.actions button{flex:1}
.error{color:#b3261e;background:#fdecea;border-radius:6px;padding:.5rem .75rem}
.muted{color:#57606a;font-size:.875rem}.divider{text-align:center;color:#57606a;margin:1rem 0}
`

/** The page frame: the env's name and colours, the app's logo when it has one. */
export function page(b: Branding, title: string, body: Html): string {
  const color = b.primaryColor && /^#[0-9a-fA-F]{3,8}$/.test(b.primaryColor) ? b.primaryColor : DEFAULT_COLOR
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} – ${b.applicationName}</title>
<style>${new Html(css(color))}</style>
</head>
<body>
<main>
<header>${b.logoUrl ? html`<img src="${b.logoUrl}" alt="">` : ''}<strong>${b.applicationName}</strong></header>
${body}
</main>
</body>
</html>
`.value
}

/** Headers of every page: no framing (RFC 9700 §4.16), no referrer, no caching, nothing loaded. */
export function pageHeaders(extra: Record<string, string> = {}): Headers {
  const h = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  })
  for (const [k, v] of Object.entries(extra)) h.set(k, v)
  return h
}
