import { type Branding, Html, html, page } from './layout'

/** One way to continue, as the factor registry offers it; `answer` decides the control. */
export interface SignInOption {
  strategy: string
  label: string
  answer: 'secret' | 'code' | 'link' | 'redirect' | 'token'
  /** Where a code or link goes (masked), when it goes somewhere. */
  target: string | null
  /** Which address or number (the option's id), sent back when the code is requested. */
  targetParam?: { name: string; value: string }
}

export interface SignInView {
  step: 'identifier' | 'first_factor' | 'second_factor' | 'code' | 'link_sent'
  /** The authorization request to return to, and the sign-in in progress. */
  request: string
  signInId: string | null
  identifier: string | null
  identifierLabel: string
  options: SignInOption[]
  /** The challenge a code answers (step `code`). */
  challenge?: { id: string; label: string; target: string | null }
  error?: string
  action: string
  /** The signed-in person proves a factor again (prompt=login, max_age) instead of signing in. */
  reverify?: boolean
}

const hiddenState = (
  v: SignInView,
) => html`<input type="hidden" name="authorization_request" value="${v.request}">
${v.signInId ? html`<input type="hidden" name="sign_in_id" value="${v.signInId}">` : ''}`

const alert = (error: string | undefined) =>
  error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''

function optionForm(v: SignInView, o: SignInOption, intent: 'answer' | 'prepare'): Html {
  if (o.answer === 'secret') {
    return html`<form method="post" action="${v.action}">
${hiddenState(v)}<input type="hidden" name="intent" value="answer"><input type="hidden" name="strategy" value="${o.strategy}">
<label for="secret-${o.strategy}">${o.label}</label>
<input id="secret-${o.strategy}" name="password" type="password" autocomplete="current-password" required${v.error ? new Html(' aria-describedby="form-error"') : ''}>
<button type="submit" class="primary">Continue</button>
</form>`
  }
  const text =
    o.answer === 'redirect' ? `Continue with ${o.label}` : o.target ? `${o.label} to ${o.target}` : o.label
  return html`<form method="post" action="${v.action}">
${hiddenState(v)}<input type="hidden" name="intent" value="${intent}"><input type="hidden" name="strategy" value="${o.strategy}">
${o.targetParam ? html`<input type="hidden" name="${o.targetParam.name}" value="${o.targetParam.value}">` : ''}
<button type="submit" class="secondary">${text}</button>
</form>`
}

function body(v: SignInView): Html {
  if (v.step === 'identifier') {
    const redirects = v.options.filter((o) => o.answer === 'redirect')
    return html`<h1>Sign in</h1>
${alert(v.error)}
${redirects.map((o) => optionForm(v, o, 'prepare'))}
${redirects.length ? html`<p class="divider">or</p>` : ''}
<form method="post" action="${v.action}">
${hiddenState(v)}<input type="hidden" name="intent" value="identify">
<label for="identifier">${v.identifierLabel}</label>
<input id="identifier" name="identifier" type="text" autocomplete="username" required value="${v.identifier ?? ''}"${v.error ? new Html(' aria-describedby="form-error"') : ''}>
<button type="submit" class="primary">Continue</button>
</form>`
  }
  if (v.step === 'code' && v.challenge) {
    return html`<h1>Enter the code</h1>
${alert(v.error)}
<p>${v.challenge.label}${v.challenge.target ? html` – sent to ${v.challenge.target}` : ''}</p>
<form method="post" action="${v.action}">
${hiddenState(v)}<input type="hidden" name="intent" value="answer"><input type="hidden" name="challenge_id" value="${v.challenge.id}">
<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required${v.error ? new Html(' aria-describedby="form-error"') : ''}>
<button type="submit" class="primary">Verify</button>
</form>`
  }
  if (v.step === 'link_sent') {
    return html`<h1>Check your inbox</h1>
<p>We sent a sign-in link${v.challenge?.target ? html` to ${v.challenge.target}` : ''}. Open it, then continue here.</p>
<form method="post" action="${v.action}">${hiddenState(v)}<input type="hidden" name="intent" value="resume">
<button type="submit" class="primary">I opened the link</button></form>`
  }
  const title =
    v.step === 'second_factor' ? 'Two-step verification' : v.reverify ? 'Confirm it is you' : 'Sign in'
  const prepareOrAnswer = (o: SignInOption) => optionForm(v, o, o.answer === 'secret' ? 'answer' : 'prepare')
  return html`<h1>${title}</h1>
${v.identifier ? html`<p class="muted">${v.identifier}</p>` : ''}
${v.reverify ? html`<p>The application asks you to sign in again.</p>` : ''}
${alert(v.error)}
${v.options.map(prepareOrAnswer)}`
}

/** The hosted sign-in page: one step of the sign-in, as plain forms. */
export const signInPage = (b: Branding, v: SignInView): string => page(b, 'Sign in', body(v))
