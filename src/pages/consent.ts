import { type Branding, html, page } from './layout'

export interface ConsentView {
  clientName: string
  clientLogoUrl: string | null
  homepageUrl: string | null
  userLabel: string
  /** Plain-words descriptions of the scopes asked for. */
  scopes: string[]
  /** The authorization request's parameters, sent back with the decision. */
  request: string
  csrfToken: string
  action: string
}

/** "<App> wants to access your account": the scopes in plain words, Allow and Deny. */
export function consentPage(b: Branding, v: ConsentView): string {
  return page(
    { ...b, logoUrl: v.clientLogoUrl ?? b.logoUrl },
    `Allow ${v.clientName}?`,
    html`<h1 id="consent-title">${v.clientName} wants to access your ${b.applicationName} account</h1>
<p class="muted">Signed in as ${v.userLabel}</p>
<p>If you allow it, ${v.clientName} will be able to:</p>
<ul aria-labelledby="consent-title">${v.scopes.map((s) => html`<li>${s}</li>`)}</ul>
${v.homepageUrl ? html`<p class="muted">About this app: ${v.homepageUrl}</p>` : ''}
<form method="post" action="${v.action}">
<input type="hidden" name="authorization_request" value="${v.request}">
<input type="hidden" name="csrf_token" value="${v.csrfToken}">
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
</div>
</form>
<p class="muted">You can revoke this access at any time from your account settings.</p>`,
  )
}
