import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomToken } from '../../src/crypto/secrets'
import { issueRedirectChallenge } from '../../src/domain/challenges/service'
import { type ClientActor, clientFromToken, clientToken } from '../../src/domain/clients/service'
import { type ExternalIdentity, type Factor, registerFactorSource } from '../../src/flows/factors'
import { notACode } from '../../src/flows/factors/shared'
import { completeExternalVerification } from '../../src/flows/sign-in/external'
import { AppError } from '../../src/lib/errors'
import { type Browser, browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'
import { bapiJson, createUser, expectError, ok, PASSWORD, uniqueEmail } from './support'

/**
 * The registry's redirect factors, driven through the sign-in and sign-up machines with a test
 * double of an external provider (the real providers, with real IdPs on loopback, come with the
 * social and enterprise sign-in work): external_verification_redirect_url and an opaque state,
 * a callback that finds the user itself, and a transfer to sign-up for an identity nobody has.
 */

const STRATEGY = 'oauth_test'
const linked = new Map<string, string>()
const transferred: Array<{ userId: string; subject: string }> = []

const provider: Factor = {
  strategy: STRATEGY,
  kind: 'first',
  answer: 'redirect',
  stepUp: false,
  options: () => [{ strategy: STRATEGY, safe_identifier: null }],
  anonymousOptions: () => [{ strategy: STRATEGY, safe_identifier: null }],
  prepare({ tx, ctx, parent, input }) {
    const state = randomToken(24)
    const challenge = issueRedirectChallenge(tx, ctx, {
      parentType: parent.type,
      parentId: parent.id,
      clientId: parent.clientId,
      step: 'first_factor',
      strategy: STRATEGY,
      state,
      externalUrl: `https://idp.example.test/authorize?state=${state}`,
      redirectUrl: input.redirect_url ?? null,
    })
    return { challenge, externalVerificationRedirectUrl: challenge.externalUrl! }
  },
  precheck: async () => {
    throw notACode()
  },
  check: () => false,
  wrongAnswer: notACode,
  async callback(_ctx, _challenge, params) {
    if (params.get('error'))
      return { kind: 'failed', error: new AppError(400, [{ code: 'external_refused', message: 'refused' }]) }
    const subject = params.get('sub')!
    const userId = linked.get(subject)
    if (userId) return { kind: 'user', userId }
    const identity: ExternalIdentity = {
      provider: 'test',
      subject,
      emailAddress: params.get('email'),
      emailVerified: true,
      firstName: 'Ada',
      lastName: 'Lovelace',
      data: {},
    }
    return { kind: 'transfer', identity }
  },
  onTransferred(_tx, _ctx, userId, identity) {
    linked.set(identity.subject, userId)
    transferred.push({ userId, subject: identity.subject })
  },
}

let h: Harness
let unregister: () => void
beforeAll(async () => {
  h = await createHarness({ envs: [{}, {}] })
  const envId = h.env.id
  unregister = registerFactorSource((ctx) => (ctx.id === envId ? [provider] : []))
})
afterAll(() => {
  unregister()
  h.close()
})

const APP = 'http://localhost:5173/after'

/** The provider's callback, arriving in the browser `b` (its client cookie is the binding). */
async function callback(b: Browser, state: string, params: Record<string, string>) {
  return h.ctx(async (ctx) => {
    const client = b.cookie ? await clientFromToken(ctx, b.cookie) : null
    const actor: ClientActor = {
      client,
      ip: '127.0.0.1',
      userAgent: null,
      origin: null,
      frontendUrl: ctx.frontendUrl(),
      sessionId: null,
    }
    const location = await completeExternalVerification(ctx, actor, state, new URLSearchParams(params))
    // The session door rotated the client's token: the browser gets the new cookie.
    if (actor.client && actor.rotatedSecret)
      b.cookie = await clientToken(ctx, actor.client.id, actor.rotatedSecret)
    return new URL(location)
  })
}

async function startExternal(b: Browser, identifier?: string) {
  const created = ok(
    await b.json('POST', '/v1/client/sign-ins', {
      strategy: STRATEGY,
      redirect_url: APP,
      ...(identifier ? { identifier } : {}),
    }),
  )
  const v = created.response.first_factor_verification
  expect(v).toMatchObject({ strategy: STRATEGY, status: 'unverified' })
  const state = new URL(v.external_verification_redirect_url).searchParams.get('state')!
  expect(state.length).toBeGreaterThan(20)
  return { signIn: created.response, state }
}

describe('a redirect factor from an env source', () => {
  it('is offered in that env only, to anyone', async () => {
    const user = await createUser(h)
    const b = browser(h)
    const mine = ok(
      await b.json('POST', '/v1/client/sign-ins', { identifier: user.email_addresses[0].email_address }),
    )
    expect(mine.response.supported_first_factors.map((f: { strategy: string }) => f.strategy)).toContain(
      STRATEGY,
    )
    const other = browser(h, h.envs[1]!)
    const theirs = ok(
      await other.json('POST', '/v1/client/sign-ins', { strategy: STRATEGY, redirect_url: APP }),
    )
    expect(theirs.response.first_factor_verification).toBeNull()
    expectError(
      await other.json('POST', `/v1/client/sign-ins/${theirs.response.id}/challenges`, {
        strategy: STRATEGY,
      }),
      400,
      'client_state_invalid',
    )
    // Here a sign-in that has no identifier yet may still go to the provider.
    const later = ok(await b.json('POST', '/v1/client/sign-ins', {}))
    const issued = ok(
      await b.json('POST', `/v1/client/sign-ins/${later.response.id}/challenges`, {
        strategy: STRATEGY,
        redirect_url: APP,
      }),
    )
    expect(issued.response.external_verification_redirect_url).toStartWith(
      'https://idp.example.test/authorize?state=',
    )
  })

  it('an identity nobody has becomes transferable, and a sign-up takes it over', async () => {
    const b = browser(h)
    const { signIn, state } = await startExternal(b)
    expect(signIn.status).toBe('needs_identifier')
    const email = uniqueEmail('ext')
    const back = await callback(b, state, { code: 'c1', sub: 'subject-1', email })
    expect(back.origin + back.pathname).toBe(APP)
    expect(back.searchParams.get('__authn_status')).toBe('transferable')
    const after = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(after.response.first_factor_verification.status).toBe('transferable')
    expect(after.client.sessions).toEqual([])

    const up = ok(await b.json('POST', '/v1/client/sign-ups', { transfer: true, password: PASSWORD }))
    expect(up.response.status).toBe('complete')
    expect(up.response).toMatchObject({ email_address: email, first_name: 'Ada', last_name: 'Lovelace' })
    expect(up.client.last_authentication_strategy).toBe(STRATEGY)
    const userId = up.response.created_user_id
    expect(transferred).toContainEqual({ userId, subject: 'subject-1' })
    const user = ok(await bapiJson(h, 'GET', `/v1/users/${userId}`))
    expect(user.email_addresses[0].verification).toEqual({ status: 'verified', strategy: STRATEGY })

    // The transferred identity is used up: a second sign-up cannot take it again.
    const again = browser(h)
    expectError(
      await again.json('POST', '/v1/client/sign-ups', { transfer: true }),
      400,
      'client_state_invalid',
    )
  })

  it('a callback that finds the user signs in without any identifier (the factor yields the user)', async () => {
    const b = browser(h)
    const { signIn, state } = await startExternal(b)
    const back = await callback(b, state, { code: 'c2', sub: 'subject-1' })
    expect(back.searchParams.get('__authn_status')).toBe('verified')
    const session = back.searchParams.get('__authn_created_session')
    expect(session).toMatch(/^sess_/)
    const done = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(done.response).toMatchObject({ status: 'complete', created_session_id: session })
    expect(done.client.last_active_session_id).toBe(session)
    const token = ok(await b.json('POST', `/v1/client/sessions/${session}/tokens`))
    expect(token.jwt).toBeString()

    // A state is used once.
    await expect(callback(b, state, { code: 'c2', sub: 'subject-1' })).rejects.toMatchObject({
      items: [{ code: 'external_verification_state_invalid' }],
    })
  })

  it('the callback must come back to the browser that started it', async () => {
    const b = browser(h)
    const { signIn, state } = await startExternal(b)
    const elsewhere = browser(h)
    ok(await elsewhere.json('POST', '/v1/client'))
    const back = await callback(elsewhere, state, { code: 'c3', sub: 'subject-1' })
    expect(back.searchParams.get('__authn_status')).toBe('client_mismatch')
    const still = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(still.response.status).toBe('needs_identifier')
    expect(still.client.sessions).toEqual([])
  })

  it('a refused verification fails the challenge; an unknown state is refused', async () => {
    const b = browser(h)
    const { signIn, state } = await startExternal(b)
    const back = await callback(b, state, { error: 'access_denied' })
    expect(back.searchParams.get('__authn_status')).toBe('failed')
    const after = ok(await b.json('GET', `/v1/client/sign-ins/${signIn.id}`))
    expect(after.response.first_factor_verification.status).toBe('failed')
    await expect(callback(b, 'not-a-state', {})).rejects.toMatchObject({
      items: [{ code: 'external_verification_state_invalid' }],
    })
  })

  it('an answer with a code is refused; an empty answer reports that it has not come back', async () => {
    const b = browser(h)
    const { signIn } = await startExternal(b)
    const cid = signIn.first_factor_verification.id
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges/${cid}/answer`, {}),
      400,
      'client_state_invalid',
    )
    expectError(
      await b.json('POST', `/v1/client/sign-ins/${signIn.id}/challenges/${cid}/answer`, { code: '123456' }),
      400,
      'verification_strategy_invalid',
    )
  })
})
