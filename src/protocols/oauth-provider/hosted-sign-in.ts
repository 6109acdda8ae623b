import type { ClientActor } from '../../domain/clients/service'
import { currentSession } from '../../domain/sessions/service'
import { findUser } from '../../domain/users/service'
import {
  answerReverificationChallenge,
  issueReverificationChallenge,
  reverificationFirstFactors,
  startReverification,
} from '../../flows/account/step-up'
import { type FactorOption, factorFor, factorsOf } from '../../flows/factors'
import {
  answerSignInChallenge,
  createSignIn,
  getSignIn,
  issueSignInChallenge,
} from '../../flows/sign-in/machine'
import { supportedIdentifiers } from '../../flows/sign-in/view'
import { AppError } from '../../lib/errors'
import { pageHeaders } from '../../pages/layout'
import { type SignInOption, type SignInView, signInPage } from '../../pages/sign-in'
import type { EnvContext } from '../../tenancy/context'
import { pageError } from './authorize'
import { brandingOf, SIGN_IN_PATH } from './browser'

/**
 * The hosted sign-in page of the authorization endpoint: the env's own sign-in machine, one
 * step per page, offering whatever the factor registry offers (a password, a code sent by
 * email or SMS, a link, an external provider; then the user's second factor). It runs on the
 * Frontend API's client, so the person ends up signed in to the customer's app too. When the
 * sign-in completes, the browser goes back to /oauth/authorize with the original request.
 */

type SignIn = Awaited<ReturnType<typeof createSignIn>>

/** Words for a strategy, from its name alone (`email_code` → "Email code"): no strategy is special here. */
const labelOf = (strategy: string) => {
  const words = strategy.replaceAll('_', ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function toOption(ctx: EnvContext, o: FactorOption, kinds: Array<'first' | 'second'>): SignInOption | null {
  const factor = factorFor(ctx, o.strategy, kinds)
  if (!factor) return null
  const targetParam = o.email_address_id
    ? { name: 'email_address_id', value: o.email_address_id }
    : o.phone_number_id
      ? { name: 'phone_number_id', value: o.phone_number_id }
      : undefined
  const verb =
    factor.answer === 'code' && o.safe_identifier
      ? `Send a code (${labelOf(o.strategy)})`
      : labelOf(o.strategy)
  return {
    strategy: o.strategy,
    label: factor.answer === 'link' ? 'Email me a sign-in link' : verb,
    answer: factor.answer,
    target: o.safe_identifier,
    targetParam,
  }
}

/** Factors that find the user themselves (external providers), shown before the identifier. */
const anonymousOptions = (ctx: EnvContext): SignInOption[] =>
  factorsOf(ctx)
    .filter((f) => f.kind === 'first' && f.anonymousOptions)
    .flatMap((f) => f.anonymousOptions!(ctx))
    .map((o) => toOption(ctx, o, ['first']))
    .filter((o): o is SignInOption => o !== null)

const IDENTIFIER_LABELS: Record<string, string> = {
  email_address: 'Email address',
  phone_number: 'Phone number',
  username: 'Username',
}

function baseView(ctx: EnvContext, request: string, signInId: string | null): SignInView {
  return {
    step: 'identifier',
    request,
    signInId,
    identifier: null,
    identifierLabel: supportedIdentifiers(ctx)
      .map((k) => IDENTIFIER_LABELS[k] ?? k)
      .join(' or '),
    options: anonymousOptions(ctx),
    action: SIGN_IN_PATH,
  }
}

/** The page for where the sign-in stands. */
function viewOf(ctx: EnvContext, request: string, s: SignIn, extra: Partial<SignInView> = {}): SignInView {
  const base = { ...baseView(ctx, request, s.id), identifier: s.identifier }
  if (s.status === 'needs_first_factor') {
    const options = s.supported_first_factors
      .map((o) => toOption(ctx, o, ['first']))
      .filter((o): o is SignInOption => o !== null)
    return { ...base, step: 'first_factor', options, ...extra }
  }
  if (s.status === 'needs_second_factor') {
    const options = s.supported_second_factors
      .map((o) => toOption(ctx, o, ['second']))
      .filter((o): o is SignInOption => o !== null)
    return { ...base, step: 'second_factor', options, ...extra }
  }
  return { ...baseView(ctx, request, null), ...extra }
}

const html = (ctx: EnvContext, view: SignInView, status = 200) =>
  new Response(signInPage(brandingOf(ctx), view), { status, headers: pageHeaders() })

const see = (location: string) => new Response(null, { status: 303, headers: pageHeaders({ location }) })

/**
 * Back to the authorization endpoint. `prompt=login` was just satisfied, so it is dropped;
 * a `max_age` is satisfied by the fresh sign-in's time.
 */
function backToAuthorize(request: string): Response {
  const params = new URLSearchParams(request)
  const prompt = (params.get('prompt') ?? '')
    .split(' ')
    .filter((p) => p && p !== 'login')
    .join(' ')
  if (prompt) params.set('prompt', prompt)
  else params.delete('prompt')
  return see(`/oauth/authorize?${params.toString()}`)
}

/**
 * The browser already has a live session, yet the request wants a fresh authentication
 * (`prompt=login`, or a `max_age` the session's last factor exceeds): its user proves a first
 * factor again through step-up (the session's first-factor time, hence `auth_time`, resets).
 * A new sign-in would be refused in single-session mode, and would be another person anyway.
 */
interface Live {
  sessionId: string
  label: string
  options: SignInOption[]
}

function liveOf(ctx: EnvContext, actor: ClientActor): Live | null {
  const session = currentSession(ctx, actor.client, null)
  if (!session) return null
  const user = findUser(ctx, session.userId)
  if (!user) return null
  const email = user.emails.find((e) => e.id === user.user.primaryEmailAddressId)?.emailAddress
  const phone = user.phones.find((p) => p.id === user.user.primaryPhoneNumberId)?.phoneNumber
  return {
    sessionId: session.id,
    label: email ?? user.user.username ?? phone ?? session.userId,
    options: reverificationFirstFactors(ctx, user)
      .map((o) => toOption(ctx, o, ['first']))
      .filter((o): o is SignInOption => o !== null),
  }
}

const reverifyView = (ctx: EnvContext, request: string, live: Live, extra: Partial<SignInView> = {}) => ({
  ...baseView(ctx, request, null),
  step: 'first_factor' as const,
  reverify: true,
  identifier: live.label,
  options: live.options,
  ...extra,
})

/** POST /oauth/sign-in while signed in: one step of the first-factor re-verification. */
async function postReverify(
  ctx: EnvContext,
  actor: ClientActor,
  live: Live,
  form: URLSearchParams,
  request: string,
): Promise<Response> {
  const intent = form.get('intent')
  const strategy = form.get('strategy') ?? undefined
  const sid = live.sessionId
  try {
    if (intent === 'prepare' && strategy) {
      startReverification(ctx, actor, sid, 'first_factor')
      const challenge = issueReverificationChallenge(ctx, actor, sid, {
        strategy,
        email_address_id: form.get('email_address_id') ?? undefined,
        phone_number_id: form.get('phone_number_id') ?? undefined,
      })
      return html(
        ctx,
        reverifyView(ctx, request, live, {
          step: 'code',
          challenge: { id: challenge.id, label: labelOf(strategy), target: null },
        }),
      )
    }
    if (intent === 'answer') {
      let cid = form.get('challenge_id')
      if (!cid && strategy && form.has('password')) {
        // A secret is answered in place: the verification and its challenge start here.
        startReverification(ctx, actor, sid, 'first_factor')
        cid = issueReverificationChallenge(ctx, actor, sid, { strategy }).id
      }
      if (!cid) throw pageError('Choose how to verify.')
      const input = form.has('password')
        ? { password: form.get('password')! }
        : { code: form.get('code') ?? '' }
      const r = await answerReverificationChallenge(ctx, actor, sid, cid, input)
      if (r.status === 'complete') return backToAuthorize(request)
    }
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500) throw e
    const cid = form.get('challenge_id')
    const codeStep = intent === 'answer' && cid && !form.has('password')
    return html(
      ctx,
      reverifyView(ctx, request, live, {
        ...(codeStep ? { step: 'code' as const, challenge: { id: cid, label: 'Code', target: null } } : {}),
        error: messageOf(e),
      }),
      e.status === 429 ? 429 : 400,
    )
  }
  return html(ctx, reverifyView(ctx, request, live))
}

/** GET /oauth/sign-in?<authorization request>[&sign_in_id=…]. */
export function showSignIn(ctx: EnvContext, actor: ClientActor, query: URLSearchParams): Response {
  const signInId = query.get('sign_in_id')
  query.delete('sign_in_id')
  const request = query.toString()
  if (!query.get('client_id')) throw pageError('Sign in from the application you came from.')
  const s = signInId ? safeGet(ctx, actor, signInId) : null
  // A sign-in that just completed (a redirect factor came back here) goes on to authorize.
  if (s?.status === 'complete') return backToAuthorize(request)
  const live = liveOf(ctx, actor)
  if (live) return html(ctx, reverifyView(ctx, request, live))
  if (s) return html(ctx, viewOf(ctx, request, s))
  return html(ctx, baseView(ctx, request, null))
}

function safeGet(ctx: EnvContext, actor: ClientActor, id: string): SignIn | null {
  try {
    return getSignIn(ctx, actor, id)
  } catch (e) {
    if (e instanceof AppError && e.status < 500) return null
    throw e
  }
}

const messageOf = (e: AppError) => [...new Set(e.items.map((i) => i.long_message ?? i.message))].join(' ')

/** A step's outcome: complete → back to authorize; a redirect factor → off to the provider. */
function after(ctx: EnvContext, request: string, s: SignIn): Response {
  if (s.status === 'complete') return backToAuthorize(request)
  const external = s.first_factor_verification?.external_verification_redirect_url
  if (external && s.first_factor_verification?.status === 'unverified') return see(external)
  return html(ctx, viewOf(ctx, request, s))
}

/**
 * POST /oauth/sign-in: one step (`intent`): identify, prepare (send a code or link, or start a
 * redirect factor), answer (password or code), resume (after a link was opened). A wrong
 * answer re-renders the step with the error; nothing else changes.
 */
export async function postSignIn(ctx: EnvContext, actor: ClientActor, form: URLSearchParams, issuer: string) {
  const request = form.get('authorization_request') ?? ''
  if (!new URLSearchParams(request).get('client_id'))
    throw pageError('Sign in from the application you came from.')
  const live = liveOf(ctx, actor)
  if (live) return postReverify(ctx, actor, live, form, request)
  const signInId = form.get('sign_in_id')
  const intent = form.get('intent')
  const strategy = form.get('strategy') ?? undefined
  const current = signInId ? safeGet(ctx, actor, signInId) : null
  const returnUrl = `${issuer}${SIGN_IN_PATH}?${request}${current ? `&sign_in_id=${current.id}` : ''}`
  try {
    if (intent === 'identify') {
      const identifier = form.get('identifier') ?? ''
      return after(ctx, request, await createSignIn(ctx, actor, { identifier }))
    }
    if (intent === 'prepare' && strategy) {
      const target = {
        email_address_id: form.get('email_address_id') ?? undefined,
        phone_number_id: form.get('phone_number_id') ?? undefined,
      }
      if (!current) {
        // A factor that finds the user itself (an external provider) starts the sign-in.
        const s = await createSignIn(ctx, actor, {
          strategy,
          redirect_url: `${issuer}${SIGN_IN_PATH}?${request}`,
        })
        return after(ctx, request, s)
      }
      const challenge = issueSignInChallenge(ctx, actor, current.id, {
        strategy,
        ...target,
        redirect_url: returnUrl,
      })
      if (challenge.external_verification_redirect_url)
        return see(challenge.external_verification_redirect_url)
      const factor = factorFor(ctx, strategy, ['first', 'second'])
      if (factor?.answer === 'link')
        return html(ctx, {
          ...viewOf(ctx, request, current),
          step: 'link_sent',
          challenge: { id: challenge.id, label: labelOf(strategy), target: null },
        })
      return html(ctx, {
        ...viewOf(ctx, request, current),
        step: 'code',
        challenge: { id: challenge.id, label: labelOf(strategy), target: null },
      })
    }
    if (intent === 'answer' && current) {
      const cid = form.get('challenge_id') ?? strategy
      if (!cid) throw pageError('Choose how to sign in.')
      const input = form.has('password')
        ? { password: form.get('password')! }
        : { code: form.get('code') ?? '' }
      return after(ctx, request, await answerSignInChallenge(ctx, actor, current.id, cid, input))
    }
    if (intent === 'resume' && current) return after(ctx, request, current)
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500) throw e
    const view = current ? viewOf(ctx, request, current) : baseView(ctx, request, null)
    const cid = form.get('challenge_id')
    const codeStep = intent === 'answer' && cid && !form.has('password')
    return html(
      ctx,
      {
        ...view,
        ...(codeStep ? { step: 'code' as const, challenge: { id: cid, label: 'Code', target: null } } : {}),
        identifier: view.identifier ?? form.get('identifier'),
        error: messageOf(e),
      },
      e.status === 429 ? 429 : 400,
    )
  }
  return html(ctx, current ? viewOf(ctx, request, current) : baseView(ctx, request, null))
}
