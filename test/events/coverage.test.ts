import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { withTx } from '../../src/db/tx'
import { linkAccount } from '../../src/domain/external-accounts/service'
import { grantConsent } from '../../src/domain/oauth/service'
import type { Browser } from '../helpers/browser'
import { loginResponse, parseAuthnRequest, testIdp } from '../helpers/saml-idp'
import {
  type Act,
  drive,
  mutatingRoutes,
  openStage,
  PASSWORD,
  type RouteKey,
  type Stage,
  TEST_CODE,
  totpCode,
} from './support'

/**
 * Every state change writes an event (DESIGN.md). This table classifies every mutating route of
 * the Backend and Frontend APIs: either the event types a successful request must write, with a
 * scenario that makes one, or an exemption with the reason. A route missing from the table, or an
 * entry for a route that is gone, fails the suite, so every new route gets classified.
 *
 * Event names follow Clerk's catalogue (reference/clerk-surface.md §9) and, for our own objects,
 * the same `family.verb` style. The listed types must all appear; others may too (a ban also
 * revokes sessions, a deleted user leaves organizations).
 */

type Scenario = (s: Stage, act: Act) => Promise<unknown>
type Entry = { emits: string[]; run: Scenario } | { exempt: string }

const emits = (types: string | string[], run: Scenario): Entry => ({
  emits: typeof types === 'string' ? [types] : types,
  run,
})
const exempt = (reason: string): Entry => ({ exempt: reason })

/** Routes that only issue a challenge: the code or link is recorded, nothing the user owns changes. */
const ISSUES_CHALLENGE = exempt(
  'issues a challenge (a code or link is recorded and sent); nothing the user owns changes, and Clerk emits nothing for it',
)

interface Area {
  name: string
  /** `PATCH /v1/instance` body applied before the area's scenarios. */
  settings?: Record<string, unknown>
  routes: Partial<Record<RouteKey, Entry>>
}

const emailOf = (u: any): string => u.email_addresses[0].email_address

// ---- users (BAPI) ---------------------------------------------------------------------------

const users: Area = {
  name: 'users',
  routes: {
    'BAPI POST /v1/users': emits('user.created', (s, act) =>
      act.bapi('POST', '/v1/users', { email_address: [s.email()], password: PASSWORD }),
    ),
    'BAPI PATCH /v1/users/:id': emits('user.updated', async (s, act) => {
      const u = await s.user()
      await act.bapi('PATCH', `/v1/users/${u.id}`, { first_name: 'Renamed' })
    }),
    'BAPI PATCH /v1/users/:id/metadata': emits('user.updated', async (s, act) => {
      const u = await s.user()
      await act.bapi('PATCH', `/v1/users/${u.id}/metadata`, { public_metadata: { plan: 'pro' } })
    }),
    'BAPI DELETE /v1/users/:id': emits('user.deleted', async (s, act) => {
      const u = await s.user()
      await act.bapi('DELETE', `/v1/users/${u.id}`)
    }),
    'BAPI POST /v1/users/:id/ban': emits(['user.updated', 'session.revoked'], async (s, act) => {
      const { user } = await s.signedIn()
      await act.bapi('POST', `/v1/users/${user.id}/ban`)
    }),
    'BAPI POST /v1/users/:id/unban': emits('user.updated', async (s, act) => {
      const u = await s.user()
      await s.bapi('POST', `/v1/users/${u.id}/ban`)
      await act.bapi('POST', `/v1/users/${u.id}/unban`)
    }),
    'BAPI POST /v1/users/:id/lock': emits('user.updated', async (s, act) => {
      const u = await s.user()
      await act.bapi('POST', `/v1/users/${u.id}/lock`)
    }),
    'BAPI POST /v1/users/:id/unlock': emits('user.updated', async (s, act) => {
      const u = await s.user()
      await s.bapi('POST', `/v1/users/${u.id}/lock`)
      await act.bapi('POST', `/v1/users/${u.id}/unlock`)
    }),
    'BAPI POST /v1/users/:id/verify-password': exempt('checks a password for a backend; changes nothing'),
  },
}

// ---- instance (BAPI) ------------------------------------------------------------------------

const instance: Area = {
  name: 'instance',
  routes: {
    'BAPI PATCH /v1/instance': emits('instance.updated', (s, act) =>
      act.bapi('PATCH', '/v1/instance', { application_name: s.unique('Renamed app ') }),
    ),
    'BAPI PATCH /v1/instance/organization-settings': emits('instance.updated', (_s, act) =>
      act.bapi('PATCH', '/v1/instance/organization-settings', { max_allowed_memberships: 9 }),
    ),
  },
}

// ---- sessions and clients (BAPI and FAPI) ---------------------------------------------------

const sessions: Area = {
  name: 'sessions and clients',
  routes: {
    'BAPI POST /v1/sessions/:id/revoke': emits('session.revoked', async (s, act) => {
      const { sid } = await s.signedIn()
      await act.bapi('POST', `/v1/sessions/${sid}/revoke`)
    }),
    'BAPI POST /v1/clients/verify': exempt(
      'reads which client a token belongs to (POST keeps the token out of URLs); changes nothing',
    ),
    'FAPI POST /v1/client': exempt(
      "starts an empty client for the device: no user, session or org changes, and Clerk's catalogue has no client events",
    ),
    'FAPI DELETE /v1/client': emits('session.ended', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'DELETE', '/v1/client')
    }),
    'FAPI POST /v1/client/sessions/:sid/end': emits('session.ended', async (s, act) => {
      const { b, sid } = await s.signedIn()
      await act.fapi(b, 'POST', `/v1/client/sessions/${sid}/end`)
    }),
    'FAPI POST /v1/client/sessions/:sid/remove': emits('session.removed', async (s, act) => {
      const { b, sid } = await s.signedIn()
      await act.fapi(b, 'POST', `/v1/client/sessions/${sid}/remove`)
    }),
    'FAPI POST /v1/dev_browser': exempt(
      "mints a development browser's token (stateless, MACed); stores nothing",
    ),
    'FAPI POST /v1/client/sessions/:sid/tokens': exempt(
      'mints a 60-second session token and touches last_active_at; changes nothing durable (organization_id: see PATCH …/active-organization)',
    ),
    'FAPI POST /v1/client/sessions/:sid/tokens/:name': exempt(
      'mints a JWT-template token for the session; changes nothing durable',
    ),
    'FAPI POST /v1/me/sessions/:id/revoke': emits('session.revoked', async (s, act) => {
      const here = await s.signedIn()
      const elsewhere = await s.signIn(here.user)
      await act.fapi(here.b, 'POST', `/v1/me/sessions/${elsewhere.sid}/revoke`)
    }),
  },
}

// ---- sign-ins (FAPI) ------------------------------------------------------------------------

/** A sign-in by identifier on a fresh browser, before any factor. */
async function startSignIn(s: Stage, user: any) {
  const b = s.browser()
  const si = await s.fapi(b, 'POST', '/v1/client/sign-ins', { identifier: emailOf(user) })
  return { b, si }
}

const signIns: Area = {
  name: 'sign-ins',
  routes: {
    // A sign-in writes its event when it completes: here, the one-call password sign-in.
    'FAPI POST /v1/client/sign-ins': emits('session.created', async (s, act) => {
      const u = await s.user()
      await act.fapi(s.browser(), 'POST', '/v1/client/sign-ins', {
        identifier: emailOf(u),
        password: PASSWORD,
        strategy: 'password',
      })
    }),
    'FAPI POST /v1/client/sign-ins/:id/challenges': ISSUES_CHALLENGE,
    'FAPI POST /v1/client/sign-ins/:id/challenges/:cid/answer': emits('session.created', async (s, act) => {
      const { b, si } = await startSignIn(s, await s.user())
      const c = await s.fapi(b, 'POST', `/v1/client/sign-ins/${si.id}/challenges`, { strategy: 'email_code' })
      await act.fapi(b, 'POST', `/v1/client/sign-ins/${si.id}/challenges/${c.id}/answer`, { code: TEST_CODE })
    }),
    // The new password changes the user (password_last_updated_at), as /v1/me/change-password does.
    'FAPI POST /v1/client/sign-ins/:id/reset-password': emits(
      ['user.updated', 'session.created'],
      async (s, act) => {
        const { b, si } = await startSignIn(s, await s.user())
        const c = await s.fapi(b, 'POST', `/v1/client/sign-ins/${si.id}/challenges`, {
          strategy: 'reset_password_email_code',
        })
        await s.fapi(b, 'POST', `/v1/client/sign-ins/${si.id}/challenges/${c.id}/answer`, { code: TEST_CODE })
        await act.fapi(b, 'POST', `/v1/client/sign-ins/${si.id}/reset-password`, {
          password: 'a brand new password',
        })
      },
    ),
  },
}

// ---- sign-ups (FAPI) ------------------------------------------------------------------------

const signUps: Area = {
  name: 'sign-ups',
  routes: {
    // A sign-up writes its events when it completes: an invitation ticket proves the address.
    'FAPI POST /v1/client/sign-ups': emits(
      ['user.created', 'invitation.accepted', 'session.created'],
      async (s, act) => {
        const inv = await s.bapi('POST', '/v1/invitations', { email_address: s.email(), notify: false })
        const ticket = new URL(inv.url).searchParams.get('ticket')
        await act.fapi(s.browser(), 'POST', '/v1/client/sign-ups', { ticket, password: PASSWORD })
      },
    ),
    'FAPI PATCH /v1/client/sign-ups/:id': emits(['user.created', 'session.created'], async (s, act) => {
      const b = s.browser()
      const su = await s.fapi(b, 'POST', '/v1/client/sign-ups', { email_address: s.email() })
      const c = await s.fapi(b, 'POST', `/v1/client/sign-ups/${su.id}/challenges`, { strategy: 'email_code' })
      await s.fapi(b, 'POST', `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`, { code: TEST_CODE })
      await act.fapi(b, 'PATCH', `/v1/client/sign-ups/${su.id}`, { password: PASSWORD })
    }),
    'FAPI POST /v1/client/sign-ups/:id/challenges': ISSUES_CHALLENGE,
    'FAPI POST /v1/client/sign-ups/:id/challenges/:cid/answer': emits(
      ['user.created', 'session.created'],
      async (s, act) => {
        const b = s.browser()
        const su = await s.fapi(b, 'POST', '/v1/client/sign-ups', {
          email_address: s.email(),
          password: PASSWORD,
        })
        const c = await s.fapi(b, 'POST', `/v1/client/sign-ups/${su.id}/challenges`, {
          strategy: 'email_code',
        })
        await act.fapi(b, 'POST', `/v1/client/sign-ups/${su.id}/challenges/${c.id}/answer`, {
          code: TEST_CODE,
        })
      },
    ),
  },
}

// ---- the signed-in user (FAPI /v1/me) -------------------------------------------------------

/** Adds a test address to the signed-in user, verified with the test code when asked. */
async function addEmail(s: Stage, b: Browser, verified: boolean) {
  const e = await s.fapi(b, 'POST', '/v1/me/email-addresses', { email_address: s.email('extra') })
  if (verified) {
    const c = await s.fapi(b, 'POST', `/v1/me/email-addresses/${e.id}/challenges`, { strategy: 'email_code' })
    await s.fapi(b, 'POST', `/v1/me/email-addresses/${e.id}/challenges/${c.id}/answer`, { code: TEST_CODE })
  }
  return e
}

async function addPhone(s: Stage, b: Browser, verified: boolean) {
  const p = await s.fapi(b, 'POST', '/v1/me/phone-numbers', { phone_number: s.phone() })
  if (verified) {
    const c = await s.fapi(b, 'POST', `/v1/me/phone-numbers/${p.id}/challenges`, {})
    await s.fapi(b, 'POST', `/v1/me/phone-numbers/${p.id}/challenges/${c.id}/answer`, { code: TEST_CODE })
  }
  return p
}

const me: Area = {
  name: 'me',
  settings: { identifiers: { phone_number: { enabled: true } }, sms: { from_number: '+15005550006' } },
  routes: {
    'FAPI PATCH /v1/me': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'PATCH', '/v1/me', { first_name: 'Ada' })
    }),
    'FAPI DELETE /v1/me': emits('user.deleted', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'DELETE', '/v1/me')
    }),
    'FAPI POST /v1/me/change-password': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'POST', '/v1/me/change-password', {
        current_password: PASSWORD,
        new_password: 'another fine password',
      })
    }),
    // email addresses: each change shows in the user's email_addresses (and primary id)
    'FAPI POST /v1/me/email-addresses': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'POST', '/v1/me/email-addresses', { email_address: s.email('extra') })
    }),
    'FAPI DELETE /v1/me/email-addresses/:id': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const e = await addEmail(s, b, false)
      await act.fapi(b, 'DELETE', `/v1/me/email-addresses/${e.id}`)
    }),
    'FAPI POST /v1/me/email-addresses/:id/set-primary': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const e = await addEmail(s, b, true)
      await act.fapi(b, 'POST', `/v1/me/email-addresses/${e.id}/set-primary`)
    }),
    'FAPI POST /v1/me/email-addresses/:id/challenges': ISSUES_CHALLENGE,
    'FAPI POST /v1/me/email-addresses/:id/challenges/:cid/answer': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const e = await addEmail(s, b, false)
      const c = await s.fapi(b, 'POST', `/v1/me/email-addresses/${e.id}/challenges`, {
        strategy: 'email_code',
      })
      await act.fapi(b, 'POST', `/v1/me/email-addresses/${e.id}/challenges/${c.id}/answer`, {
        code: TEST_CODE,
      })
    }),
    // phone numbers: each change shows in the user's phone_numbers (and two_factor_enabled)
    'FAPI POST /v1/me/phone-numbers': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'POST', '/v1/me/phone-numbers', { phone_number: s.phone() })
    }),
    'FAPI PATCH /v1/me/phone-numbers/:id': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const p = await addPhone(s, b, true)
      await act.fapi(b, 'PATCH', `/v1/me/phone-numbers/${p.id}`, { reserved_for_second_factor: true })
    }),
    'FAPI DELETE /v1/me/phone-numbers/:id': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const p = await addPhone(s, b, false)
      await act.fapi(b, 'DELETE', `/v1/me/phone-numbers/${p.id}`)
    }),
    'FAPI POST /v1/me/phone-numbers/:id/challenges': ISSUES_CHALLENGE,
    'FAPI POST /v1/me/phone-numbers/:id/challenges/:cid/answer': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const p = await addPhone(s, b, false)
      const c = await s.fapi(b, 'POST', `/v1/me/phone-numbers/${p.id}/challenges`, {})
      await act.fapi(b, 'POST', `/v1/me/phone-numbers/${p.id}/challenges/${c.id}/answer`, {
        code: TEST_CODE,
      })
    }),
  },
}

// ---- multi-factor (FAPI and BAPI) -----------------------------------------------------------

/** Starts and confirms an authenticator for the signed-in user. */
async function enrollTotp(s: Stage, b: Browser) {
  const started = await s.fapi(b, 'POST', '/v1/me/totp')
  await s.fapi(b, 'POST', '/v1/me/totp/verify', { code: totpCode(started.uri, s.h.clock.now()) })
}

const mfa: Area = {
  name: 'multi-factor',
  routes: {
    'FAPI POST /v1/me/totp': exempt(
      'starts enrollment: an unconfirmed secret is stored, the user (totp_enabled) changes only at /verify',
    ),
    'FAPI POST /v1/me/totp/verify': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      const started = await s.fapi(b, 'POST', '/v1/me/totp')
      await act.fapi(b, 'POST', '/v1/me/totp/verify', { code: totpCode(started.uri, s.h.clock.now()) })
    }),
    'FAPI DELETE /v1/me/totp': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await enrollTotp(s, b)
      await act.fapi(b, 'DELETE', '/v1/me/totp')
    }),
    'FAPI POST /v1/me/backup-codes': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await act.fapi(b, 'POST', '/v1/me/backup-codes')
    }),
    'FAPI DELETE /v1/me/backup-codes': emits('user.updated', async (s, act) => {
      const { b } = await s.signedIn()
      await s.fapi(b, 'POST', '/v1/me/backup-codes')
      await act.fapi(b, 'DELETE', '/v1/me/backup-codes')
    }),
    'BAPI DELETE /v1/users/:id/mfa': emits('user.updated', async (s, act) => {
      const { b, user } = await s.signedIn()
      await enrollTotp(s, b)
      await act.bapi('DELETE', `/v1/users/${user.id}/mfa`)
    }),
    'BAPI POST /v1/users/:id/verify-totp': exempt(
      'checks a code for a backend; records only replay protection (the used step or backup code), as sign-in does',
    ),
    'FAPI POST /v1/client/sessions/:sid/verify': exempt(
      'starts a step-up verification attempt (like a sign-in attempt): no user or session change yet',
    ),
    'FAPI POST /v1/client/sessions/:sid/verify/challenges': ISSUES_CHALLENGE,
    'FAPI POST /v1/client/sessions/:sid/verify/challenges/:cid/answer': exempt(
      "step-up: refreshes the session's factor-verification age (the token's fva); Clerk has no session.updated event",
    ),
  },
}

// ---- sign-in tokens and instance invitations (BAPI) -----------------------------------------

const tickets: Area = {
  name: 'sign-in tokens and invitations',
  routes: {
    'BAPI POST /v1/sign-in-tokens': emits('signInToken.created', async (s, act) => {
      const u = await s.user()
      await act.bapi('POST', '/v1/sign-in-tokens', { user_id: u.id })
    }),
    // Creation writes signInToken.created; revoking it is a state change of the same object.
    'BAPI POST /v1/sign-in-tokens/:id/revoke': emits('signInToken.revoked', async (s, act) => {
      const u = await s.user()
      const t = await s.bapi('POST', '/v1/sign-in-tokens', { user_id: u.id })
      await act.bapi('POST', `/v1/sign-in-tokens/${t.id}/revoke`)
    }),
    'BAPI POST /v1/invitations': emits('invitation.created', (s, act) =>
      act.bapi('POST', '/v1/invitations', { email_address: s.email('invitee') }),
    ),
    'BAPI POST /v1/invitations/bulk': emits('invitation.created', (s, act) =>
      act.bapi('POST', '/v1/invitations/bulk', [
        { email_address: s.email('invitee') },
        { email_address: s.email('invitee') },
      ]),
    ),
    'BAPI POST /v1/invitations/:id/revoke': emits('invitation.revoked', async (s, act) => {
      const inv = await s.bapi('POST', '/v1/invitations', { email_address: s.email('invitee') })
      await act.bapi('POST', `/v1/invitations/${inv.id}/revoke`)
    }),
  },
}

// ---- messages (BAPI) ------------------------------------------------------------------------

const messages: Area = {
  name: 'messages',
  routes: {
    'BAPI PATCH /v1/sms-templates/:slug': emits('smsTemplate.updated', (_s, act) =>
      act.bapi('PATCH', '/v1/sms-templates/verification_code', { body: 'Your code: {{code}}' }),
    ),
    'BAPI POST /v1/sms-templates/:slug/revert': emits('smsTemplate.updated', async (s, act) => {
      await s.bapi('PATCH', '/v1/sms-templates/reset_password_code', { body: 'Reset with {{code}}' })
      await act.bapi('POST', '/v1/sms-templates/reset_password_code/revert')
    }),
  },
}

// ---- JWT templates (BAPI) -------------------------------------------------------------------

const jwtTemplates: Area = {
  name: 'JWT templates',
  routes: {
    'BAPI POST /v1/jwt-templates': emits('jwtTemplate.created', (s, act) =>
      act.bapi('POST', '/v1/jwt-templates', { name: s.unique('tpl-'), claims: { plan: 'pro' } }),
    ),
    'BAPI PATCH /v1/jwt-templates/:id': emits('jwtTemplate.updated', async (s, act) => {
      const t = await s.bapi('POST', '/v1/jwt-templates', { name: s.unique('tpl-'), claims: {} })
      await act.bapi('PATCH', `/v1/jwt-templates/${t.id}`, { claims: { plan: 'pro' } })
    }),
    'BAPI DELETE /v1/jwt-templates/:id': emits('jwtTemplate.deleted', async (s, act) => {
      const t = await s.bapi('POST', '/v1/jwt-templates', { name: s.unique('tpl-'), claims: {} })
      await act.bapi('DELETE', `/v1/jwt-templates/${t.id}`)
    }),
    'BAPI POST /v1/users/:id/jwt-templates/:name/tokens': exempt(
      'mints a template token for a user without a session; changes nothing durable',
    ),
    'BAPI POST /v1/sessions/:id/tokens': exempt(
      'mints a 60-second session token for a backend and touches last_active_at; changes nothing durable',
    ),
    'BAPI POST /v1/sessions/:id/tokens/:name': exempt(
      'mints a JWT-template token for the session; changes nothing durable',
    ),
  },
}

// ---- OAuth providers (BAPI) -----------------------------------------------------------------

const oauthProviders: Area = {
  name: 'OAuth providers',
  routes: {
    'BAPI POST /v1/oauth-providers': emits('oauthProvider.created', (s, act) =>
      act.bapi('POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'google',
        provider_key: s.unique('google_'),
        client_id: 'c',
        client_secret: 's',
      }),
    ),
    'BAPI PATCH /v1/oauth-providers/:id': emits('oauthProvider.updated', async (s, act) => {
      const p = await s.bapi('POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'github',
        provider_key: s.unique('github_'),
        client_id: 'c',
      })
      await act.bapi('PATCH', `/v1/oauth-providers/${p.id}`, { enabled: false })
    }),
    'BAPI DELETE /v1/oauth-providers/:id': emits('oauthProvider.deleted', async (s, act) => {
      const p = await s.bapi('POST', '/v1/oauth-providers', {
        provider_kind: 'preset',
        preset: 'slack',
        provider_key: s.unique('slack_'),
        client_id: 'c',
      })
      await act.bapi('DELETE', `/v1/oauth-providers/${p.id}`)
    }),
    'FAPI POST /v1/me/external-accounts': exempt(
      'starts connecting a provider: issues a redirect challenge; the account is linked (externalAccount.created) by the callback',
    ),
    'FAPI DELETE /v1/me/external-accounts/:id': emits(
      ['externalAccount.deleted', 'user.updated'],
      async (s, act) => {
        const p = await s.bapi('POST', '/v1/oauth-providers', {
          provider_kind: 'preset',
          preset: 'discord',
          provider_key: s.unique('discord_'),
          client_id: 'c',
        })
        const person = await s.signedIn()
        // Linked as a callback would (no tokens: nothing to revoke at the real provider).
        const account = s.h.ctx((ctx) =>
          withTx(ctx, (tx) =>
            linkAccount(tx, ctx, {
              userId: person.user.id,
              providerId: p.id,
              provider: p.provider_key,
              profile: {
                providerUserId: s.unique('discord-user-'),
                email: null,
                emailVerified: false,
                firstName: null,
                lastName: null,
                username: null,
                imageUrl: null,
              },
              tokens: null,
            }),
          ),
        )
        await act.fapi(person.b, 'DELETE', `/v1/me/external-accounts/${account.id}`)
      },
    ),
    'BAPI POST /v1/oauth-providers/:id/test': exempt(
      'a dry-run probe of the provider endpoints; it reads and reports, nothing is stored',
    ),
  },
}

// ---- webhook endpoints (BAPI) ---------------------------------------------------------------

const DELIVERY_CONFIG = exempt(
  "configures delivery itself (Svix's side in Clerk): the catalogue has no event for endpoints, and one would be fanned out to the endpoints it describes",
)

const webhooks: Area = {
  name: 'webhook endpoints',
  routes: {
    'BAPI POST /v1/webhook-endpoints': DELIVERY_CONFIG,
    'BAPI PATCH /v1/webhook-endpoints/:id': DELIVERY_CONFIG,
    'BAPI DELETE /v1/webhook-endpoints/:id': DELIVERY_CONFIG,
    'BAPI POST /v1/webhook-endpoints/:id/rotate-secret': DELIVERY_CONFIG,
    'BAPI POST /v1/webhook-endpoints/:id/deliveries/:delivery_id/replay': exempt(
      'sends an existing delivery of an existing event again; nothing new happened',
    ),
  },
}

// ---- organizations (BAPI) -------------------------------------------------------------------

const ORGS_ON = { organizations: { enabled: true, domains_enabled: true } }

/** An organization whose creator (a new user, its admin) joined in the creator role. */
async function org(s: Stage, admin?: any) {
  const creator = admin ?? (await s.user())
  return s.bapi('POST', '/v1/organizations', { name: s.unique('Org '), created_by: creator.id })
}

async function member(s: Stage, o: any, role = 'org:member') {
  const u = await s.user()
  return s.bapi('POST', `/v1/organizations/${o.id}/memberships`, { user_id: u.id, role })
}

async function domain(s: Stage, o: any, extra: Record<string, unknown> = {}) {
  return s.bapi('POST', `/v1/organizations/${o.id}/domains`, { name: `${s.unique('d')}.example`, ...extra })
}

const organizations: Area = {
  name: 'organizations (BAPI)',
  settings: ORGS_ON,
  routes: {
    'BAPI POST /v1/organizations': emits(
      ['organization.created', 'organizationMembership.created'],
      async (s, act) => {
        const u = await s.user()
        await act.bapi('POST', '/v1/organizations', { name: s.unique('Org '), created_by: u.id })
      },
    ),
    'BAPI PATCH /v1/organizations/:id': emits('organization.updated', async (s, act) => {
      const o = await org(s)
      await act.bapi('PATCH', `/v1/organizations/${o.id}`, { name: 'Renamed org' })
    }),
    'BAPI PATCH /v1/organizations/:id/metadata': emits('organization.updated', async (s, act) => {
      const o = await org(s)
      await act.bapi('PATCH', `/v1/organizations/${o.id}/metadata`, { public_metadata: { tier: 'gold' } })
    }),
    'BAPI PATCH /v1/organizations/:id/memberships/:membership_id/metadata': emits(
      'organizationMembership.updated',
      async (s, act) => {
        const o = await org(s)
        const m = await member(s, o)
        await act.bapi(
          'PATCH',
          `/v1/organizations/${o.id}/memberships/${m.public_user_data.user_id}/metadata`,
          {
            private_metadata: { seat: 4 },
          },
        )
      },
    ),
    'BAPI DELETE /v1/organizations/:id': emits('organization.deleted', async (s, act) => {
      const o = await org(s)
      await act.bapi('DELETE', `/v1/organizations/${o.id}`)
    }),
    'BAPI POST /v1/organizations/:id/memberships': emits('organizationMembership.created', async (s, act) => {
      const o = await org(s)
      const u = await s.user()
      await act.bapi('POST', `/v1/organizations/${o.id}/memberships`, { user_id: u.id, role: 'org:member' })
    }),
    'BAPI PATCH /v1/organizations/:id/memberships/:membership_id': emits(
      'organizationMembership.updated',
      async (s, act) => {
        const o = await org(s)
        const m = await member(s, o)
        await act.bapi('PATCH', `/v1/organizations/${o.id}/memberships/${m.id}`, { role: 'org:admin' })
      },
    ),
    'BAPI DELETE /v1/organizations/:id/memberships/:membership_id': emits(
      'organizationMembership.deleted',
      async (s, act) => {
        const o = await org(s)
        const m = await member(s, o)
        await act.bapi('DELETE', `/v1/organizations/${o.id}/memberships/${m.id}`)
      },
    ),
    'BAPI POST /v1/organizations/:id/invitations': emits('organizationInvitation.created', async (s, act) => {
      const o = await org(s)
      await act.bapi('POST', `/v1/organizations/${o.id}/invitations`, { email_address: s.email('invitee') })
    }),
    'BAPI POST /v1/organizations/:id/invitations/bulk': emits(
      'organizationInvitation.created',
      async (s, act) => {
        const o = await org(s)
        await act.bapi('POST', `/v1/organizations/${o.id}/invitations/bulk`, [
          { email_address: s.email('invitee') },
          { email_address: s.email('invitee') },
        ])
      },
    ),
    'BAPI POST /v1/organizations/:id/invitations/:inv_id/revoke': emits(
      'organizationInvitation.revoked',
      async (s, act) => {
        const o = await org(s)
        const inv = await s.bapi('POST', `/v1/organizations/${o.id}/invitations`, {
          email_address: s.email('invitee'),
        })
        await act.bapi('POST', `/v1/organizations/${o.id}/invitations/${inv.id}/revoke`)
      },
    ),
    'BAPI POST /v1/organizations/:id/domains': emits('organizationDomain.created', async (s, act) => {
      const o = await org(s)
      await act.bapi('POST', `/v1/organizations/${o.id}/domains`, { name: `${s.unique('d')}.example` })
    }),
    'BAPI PATCH /v1/organizations/:id/domains/:domain_id': emits(
      'organizationDomain.updated',
      async (s, act) => {
        const o = await org(s)
        const d = await domain(s, o, { verified: true })
        await act.bapi('PATCH', `/v1/organizations/${o.id}/domains/${d.id}`, {
          enrollment_mode: 'automatic_invitation',
        })
      },
    ),
    'BAPI DELETE /v1/organizations/:id/domains/:domain_id': emits(
      'organizationDomain.deleted',
      async (s, act) => {
        const o = await org(s)
        const d = await domain(s, o)
        await act.bapi('DELETE', `/v1/organizations/${o.id}/domains/${d.id}`)
      },
    ),
    'BAPI POST /v1/organizations/:id/domains/:domain_id/challenges': ISSUES_CHALLENGE,
    'BAPI POST /v1/organizations/:id/domains/:domain_id/challenges/:cid/answer': emits(
      'organizationDomain.updated',
      async (s, act) => {
        const o = await org(s)
        const d = await domain(s, o)
        const c = await s.bapi('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges`, {
          strategy: 'email_code',
          email_address: `it+authn_test@${d.name}`,
        })
        await act.bapi('POST', `/v1/organizations/${o.id}/domains/${d.id}/challenges/${c.id}/answer`, {
          code: TEST_CODE,
        })
      },
    ),
  },
}

// ---- roles and permissions (BAPI) -----------------------------------------------------------

const roles: Area = {
  name: 'roles and permissions',
  settings: ORGS_ON,
  routes: {
    'BAPI POST /v1/roles': emits('role.created', (s, act) =>
      act.bapi('POST', '/v1/roles', { key: `org:${s.unique('role_')}`, name: 'A role' }),
    ),
    'BAPI PATCH /v1/roles/:id': emits('role.updated', async (s, act) => {
      const r = await s.bapi('POST', '/v1/roles', { key: `org:${s.unique('role_')}`, name: 'A role' })
      await act.bapi('PATCH', `/v1/roles/${r.id}`, { name: 'Renamed role' })
    }),
    'BAPI DELETE /v1/roles/:id': emits('role.deleted', async (s, act) => {
      const r = await s.bapi('POST', '/v1/roles', { key: `org:${s.unique('role_')}`, name: 'A role' })
      await act.bapi('DELETE', `/v1/roles/${r.id}`)
    }),
    'BAPI PUT /v1/roles/:id/permissions': emits('role.updated', async (s, act) => {
      const p = await s.bapi('POST', '/v1/permissions', { key: `org:${s.unique('f')}:read`, name: 'Read' })
      const r = await s.bapi('POST', '/v1/roles', { key: `org:${s.unique('role_')}`, name: 'A role' })
      await act.bapi('PUT', `/v1/roles/${r.id}/permissions`, { permissions: [p.key] })
    }),
    'BAPI POST /v1/permissions': emits('permission.created', (s, act) =>
      act.bapi('POST', '/v1/permissions', { key: `org:${s.unique('f')}:read`, name: 'Read' }),
    ),
    'BAPI DELETE /v1/permissions/:id': emits('permission.deleted', async (s, act) => {
      const p = await s.bapi('POST', '/v1/permissions', { key: `org:${s.unique('f')}:read`, name: 'Read' })
      await act.bapi('DELETE', `/v1/permissions/${p.id}`)
    }),
  },
}

// ---- organizations, members' side (FAPI) ----------------------------------------------------

/** A pending membership request of a new user, made by an org's verified domain in suggestion mode. */
async function membershipRequest(s: Stage) {
  const admin = await s.signedIn()
  const o = await org(s, admin.user)
  const d = await domain(s, o, { verified: true, enrollment_mode: 'automatic_suggestion' })
  await s.bapi('POST', '/v1/users', { email_address: [`joiner+authn_test@${d.name}`], password: PASSWORD })
  const requests = await s.fapi(admin.b, 'GET', `/v1/organizations/${o.id}/membership-requests`)
  expect(requests.data).toHaveLength(1)
  return { admin, o, request: requests.data[0] }
}

const orgMembers: Area = {
  name: 'organizations (FAPI)',
  settings: ORGS_ON,
  routes: {
    'FAPI POST /v1/organizations': emits(
      ['organization.created', 'organizationMembership.created'],
      async (s, act) => {
        const { b } = await s.signedIn()
        await act.fapi(b, 'POST', '/v1/organizations', { name: s.unique('Org ') })
      },
    ),
    'FAPI POST /v1/organizations/:id/invitations': emits('organizationInvitation.created', async (s, act) => {
      const admin = await s.signedIn()
      const o = await org(s, admin.user)
      await act.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/invitations`, {
        email_address: s.email('invitee'),
      })
    }),
    'FAPI POST /v1/organizations/:id/leave': emits('organizationMembership.deleted', async (s, act) => {
      const o = await org(s)
      const joiner = await s.signedIn()
      await s.bapi('POST', `/v1/organizations/${o.id}/memberships`, {
        user_id: joiner.user.id,
        role: 'org:member',
      })
      await act.fapi(joiner.b, 'POST', `/v1/organizations/${o.id}/leave`)
    }),
    'FAPI POST /v1/me/organization-invitations/:id/accept': emits(
      ['organizationInvitation.accepted', 'organizationMembership.created'],
      async (s, act) => {
        const o = await org(s)
        const invitee = await s.signedIn()
        const inv = await s.bapi('POST', `/v1/organizations/${o.id}/invitations`, {
          email_address: emailOf(invitee.user),
        })
        await act.fapi(invitee.b, 'POST', `/v1/me/organization-invitations/${inv.id}/accept`)
      },
    ),
    'FAPI POST /v1/organizations/:id/membership-requests/:rid/accept': emits(
      ['organizationMembershipRequest.accepted', 'organizationMembership.created'],
      async (s, act) => {
        const { admin, o, request } = await membershipRequest(s)
        await act.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/membership-requests/${request.id}/accept`)
      },
    ),
    'FAPI POST /v1/organizations/:id/membership-requests/:rid/reject': emits(
      'organizationMembershipRequest.rejected',
      async (s, act) => {
        const { admin, o, request } = await membershipRequest(s)
        await act.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/membership-requests/${request.id}/reject`)
      },
    ),
    'FAPI PATCH /v1/client/sessions/:sid/active-organization': exempt(
      "switches the session's active organization (the token's o claim); Clerk has no session.updated event",
    ),
  },
}

// ---- SCIM provisioning admin (BAPI and FAPI) ---------------------------------------------------

const scimAdmin: Area = {
  name: 'SCIM provisioning admin',
  settings: ORGS_ON,
  routes: {
    'BAPI POST /v1/organizations/:id/scim/tokens': emits('scimToken.created', async (s, act) => {
      const o = await org(s)
      await act.bapi('POST', `/v1/organizations/${o.id}/scim/tokens`, { name: 'Entra' })
    }),
    'BAPI POST /v1/organizations/:id/scim/tokens/:token_id/revoke': emits(
      'scimToken.revoked',
      async (s, act) => {
        const o = await org(s)
        const t = await s.bapi('POST', `/v1/organizations/${o.id}/scim/tokens`, {})
        await act.bapi('POST', `/v1/organizations/${o.id}/scim/tokens/${t.id}/revoke`)
      },
    ),
    'BAPI PUT /v1/organizations/:id/scim/attribute-mappings': emits(
      'scimAttributeMapping.updated',
      async (s, act) => {
        const o = await org(s)
        await act.bapi('PUT', `/v1/organizations/${o.id}/scim/attribute-mappings`, {
          mapping: { title: 'public_metadata.title' },
        })
      },
    ),
    'FAPI POST /v1/organizations/:id/scim/tokens': emits('scimToken.created', async (s, act) => {
      const admin = await s.signedIn()
      const o = await org(s, admin.user)
      await act.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/scim/tokens`, { name: 'Okta' })
    }),
    'FAPI POST /v1/organizations/:id/scim/tokens/:token_id/revoke': emits(
      'scimToken.revoked',
      async (s, act) => {
        const admin = await s.signedIn()
        const o = await org(s, admin.user)
        const t = await s.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/scim/tokens`, {})
        await act.fapi(admin.b, 'POST', `/v1/organizations/${o.id}/scim/tokens/${t.id}/revoke`)
      },
    ),
    'FAPI PUT /v1/organizations/:id/scim/attribute-mappings': emits(
      'scimAttributeMapping.updated',
      async (s, act) => {
        const admin = await s.signedIn()
        const o = await org(s, admin.user)
        await act.fapi(admin.b, 'PUT', `/v1/organizations/${o.id}/scim/attribute-mappings`, { mapping: {} })
      },
    ),
  },
}

// ---- the table and the suite ----------------------------------------------------------------

// ---- OAuth applications (BAPI) and the user's authorised apps (FAPI) ------------------------

const oauthApp = (s: Stage) =>
  s.bapi('POST', '/v1/oauth-applications', {
    name: s.unique('app'),
    redirect_uris: ['https://app.example.com/cb'],
  })
/** A user who authorised an app, and the grant (made through the provider's consent service). */
async function oauthGrant(s: Stage) {
  const app = await oauthApp(s)
  const person = await s.signedIn()
  const grant = s.h.ctx((ctx) => grantConsent(ctx, app.id, person.user.id, ['profile']))
  return { app, person, grant }
}

const oauthApps: Area = {
  name: 'oauth applications',
  routes: {
    'BAPI POST /v1/oauth-applications': emits('oauthApplication.created', (_s, act) =>
      act.bapi('POST', '/v1/oauth-applications', {
        name: 'App',
        redirect_uris: ['https://app.example.com/cb'],
      }),
    ),
    'BAPI PATCH /v1/oauth-applications/:id': emits('oauthApplication.updated', async (s, act) => {
      const app = await oauthApp(s)
      await act.bapi('PATCH', `/v1/oauth-applications/${app.id}`, { name: 'Renamed' })
    }),
    'BAPI DELETE /v1/oauth-applications/:id': emits(
      ['oauthGrant.revoked', 'oauthApplication.deleted'],
      async (s, act) => {
        const { app } = await oauthGrant(s)
        await act.bapi('DELETE', `/v1/oauth-applications/${app.id}`)
      },
    ),
    'BAPI POST /v1/oauth-applications/:id/rotate-secret': emits(
      'oauthApplication.updated',
      async (s, act) => {
        const app = await oauthApp(s)
        await act.bapi('POST', `/v1/oauth-applications/${app.id}/rotate-secret`)
      },
    ),
    'BAPI DELETE /v1/oauth-applications/:id/authorization-grants/:grant_id': emits(
      'oauthGrant.revoked',
      async (s, act) => {
        const { app, grant } = await oauthGrant(s)
        await act.bapi('DELETE', `/v1/oauth-applications/${app.id}/authorization-grants/${grant.id}`)
      },
    ),
    'FAPI DELETE /v1/me/oauth-authorization-grants/:id': emits('oauthGrant.revoked', async (s, act) => {
      const { person, grant } = await oauthGrant(s)
      await act.fapi(person.b, 'DELETE', `/v1/me/oauth-authorization-grants/${grant.id}`)
    }),
  },
}

// ---- enterprise SSO (BAPI) ------------------------------------------------------------------

const samlConnection = (s: Stage) => ({
  name: s.unique('Corp '),
  protocol: 'saml',
  domains: [`${s.unique('corp')}.test`],
  saml_idp_entity_id: 'https://idp.corp.test/saml',
  saml_idp_sso_url: 'https://idp.corp.test/sso',
  saml_idp_certificate: readFileSync(join(import.meta.dir, '../fixtures/saml/idp.crt'), 'utf8'),
})

/** An enterprise account made the real way: a SAML sign-in answered by samlify. */
async function enterpriseAccount(s: Stage) {
  // node-saml and samlify read the real clock, and the fixture certificates are recent.
  s.h.clock.set(Date.now())
  const c = await s.bapi('POST', '/v1/enterprise-connections', samlConnection(s))
  const b = s.browser()
  const who = `ada@${c.domains[0]}`
  const si = await s.fapi(b, 'POST', '/v1/client/sign-ins', { strategy: 'enterprise_sso', identifier: who })
  const start = new URL(si.first_factor_verification.external_verification_redirect_url)
  const hop = await b.call('GET', start.pathname + start.search)
  const idp = testIdp()
  const request = await parseAuthnRequest(
    idp,
    c.saml_sp_entity_id,
    c.saml_acs_url,
    hop.headers.get('location')!,
  )
  const response = await loginResponse(idp, {
    spEntityId: c.saml_sp_entity_id,
    acsUrl: c.saml_acs_url,
    nameId: who,
    inResponseTo: request.id,
  })
  const form = new URLSearchParams({ SAMLResponse: response.base64, RelayState: request.relayState! })
  await b.call('POST', `/v1/saml/${c.id}/acs`, form.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  })
  const accounts = await s.bapi('GET', `/v1/enterprise-accounts?enterprise_connection_id=${c.id}`)
  return accounts.data[0]
}

const enterpriseSso: Area = {
  name: 'enterprise SSO',
  routes: {
    'BAPI POST /v1/enterprise-connections': emits('enterpriseConnection.created', (s, act) =>
      act.bapi('POST', '/v1/enterprise-connections', samlConnection(s)),
    ),
    'BAPI PATCH /v1/enterprise-connections/:id': emits('enterpriseConnection.updated', async (s, act) => {
      const c = await s.bapi('POST', '/v1/enterprise-connections', samlConnection(s))
      await act.bapi('PATCH', `/v1/enterprise-connections/${c.id}`, { name: 'Renamed' })
    }),
    'BAPI DELETE /v1/enterprise-connections/:id': emits('enterpriseConnection.deleted', async (s, act) => {
      const c = await s.bapi('POST', '/v1/enterprise-connections', samlConnection(s))
      await act.bapi('DELETE', `/v1/enterprise-connections/${c.id}`)
    }),
    'BAPI DELETE /v1/enterprise-accounts/:id': emits('enterpriseAccount.deleted', async (s, act) => {
      const account = await enterpriseAccount(s)
      await act.bapi('DELETE', `/v1/enterprise-accounts/${account.id}`)
    }),
    'BAPI POST /v1/enterprise-connections/:id/test': exempt(
      'a dry-run probe of the IdP (metadata, certificates, discovery): reads and fetches, changes nothing',
    ),
  },
}

/** A signed-in admin of a new organization (its creator), with a verified domain for its connections. */
async function orgAdmin(s: Stage) {
  const p = await s.signedIn()
  const org = await s.bapi('POST', '/v1/organizations', { name: s.unique('Org '), created_by: p.user.id })
  const domain = `${s.unique('org-corp')}.test`
  await s.bapi('POST', `/v1/organizations/${org.id}/domains`, { name: domain, verified: true })
  const connection = { ...samlConnection(s), domains: [domain] }
  return { b: p.b, path: `/v1/organizations/${org.id}/enterprise-connections`, connection }
}

const orgEnterpriseSso: Area = {
  name: 'organization enterprise SSO',
  settings: ORGS_ON,
  routes: {
    'FAPI POST /v1/organizations/:id/enterprise-connections': emits(
      'enterpriseConnection.created',
      async (s, act) => {
        const { b, path, connection } = await orgAdmin(s)
        await act.fapi(b, 'POST', path, connection)
      },
    ),
    'FAPI PATCH /v1/organizations/:id/enterprise-connections/:connection_id': emits(
      'enterpriseConnection.updated',
      async (s, act) => {
        const { b, path, connection } = await orgAdmin(s)
        const c = await s.fapi(b, 'POST', path, connection)
        await act.fapi(b, 'PATCH', `${path}/${c.id}`, { name: 'Renamed' })
      },
    ),
    'FAPI DELETE /v1/organizations/:id/enterprise-connections/:connection_id': emits(
      'enterpriseConnection.deleted',
      async (s, act) => {
        const { b, path, connection } = await orgAdmin(s)
        const c = await s.fapi(b, 'POST', path, connection)
        await act.fapi(b, 'DELETE', `${path}/${c.id}`)
      },
    ),
    'FAPI POST /v1/organizations/:id/enterprise-connections/:connection_id/test': exempt(
      'the same dry-run probe as the Backend API one: reads and fetches, changes nothing',
    ),
  },
}

const AREAS: Area[] = [
  users,
  instance,
  sessions,
  signIns,
  signUps,
  me,
  mfa,
  tickets,
  messages,
  jwtTemplates,
  oauthProviders,
  webhooks,
  organizations,
  roles,
  orgMembers,
  oauthApps,
  enterpriseSso,
  scimAdmin,
  orgEnterpriseSso,
]

/** Every area's entries in one table; a route classified twice is a mistake. */
function tableOf(areas: Area[]): Map<RouteKey, Entry> {
  const table = new Map<RouteKey, Entry>()
  for (const area of areas)
    for (const [key, entry] of Object.entries(area.routes) as Array<[RouteKey, Entry]>) {
      if (table.has(key)) throw new Error(`${key} is classified twice (again in ${area.name})`)
      table.set(key, entry)
    }
  return table
}

const TABLE = tableOf(AREAS)

describe('the event table', () => {
  const surface = mutatingRoutes()

  test('classifies every mutating route of the Backend and Frontend APIs', () => {
    expect(surface.length).toBeGreaterThan(50)
    expect(surface.filter((key) => !TABLE.has(key))).toEqual([])
  })

  test('names only routes that exist', () => {
    expect([...TABLE.keys()].filter((key) => !surface.includes(key))).toEqual([])
  })

  test('gives every exemption a reason and every other route an event type', () => {
    for (const [key, entry] of TABLE) {
      if ('exempt' in entry) expect({ key, reason: entry.exempt.length > 20 }).toEqual({ key, reason: true })
      else expect({ key, emits: entry.emits.length > 0 }).toEqual({ key, emits: true })
    }
  })
})

for (const area of AREAS) {
  const cases = Object.entries(area.routes).flatMap(([key, entry]) =>
    entry && 'emits' in entry ? [[key as RouteKey, entry.emits.join(' + '), entry] as const] : [],
  )
  if (!cases.length) continue

  describe(`events: ${area.name}`, () => {
    let stage: Stage
    beforeAll(async () => {
      stage = await openStage(area.settings)
    })
    afterAll(() => stage?.close())

    test.each(cases)('%s writes %s', async (key, _types, entry) => {
      const { emitted } = await drive(stage, key, entry.run)
      const missing = entry.emits.filter((type) => !emitted.includes(type))
      expect({ route: key, emitted, missing }).toEqual({ route: key, emitted, missing: [] })
    })
  })
}
