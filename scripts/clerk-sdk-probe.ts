/**
 * Measures how much of `@clerk/backend`'s client works against this server: every call below is
 * made through `createClerkClient` against a server on a loopback port, and counts as working
 * only when it resolves to what the SDK's classes should hold (not merely without throwing).
 * Prints one line per call and a total; used for the compatibility table in
 * docs/clerk-compatibility.md. Run: `npx bun scripts/clerk-sdk-probe.ts`.
 */
import { createClerkClient, verifyToken } from '@clerk/backend'
import { browser } from '../test/helpers/browser'
import { createHarness } from '../test/helpers/harness'

const PASSWORD = 'correct horse battery'
const h = await createHarness({ now: new Date().toISOString() })
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => h.rt.server.handle(r, '127.0.0.1') })
const apiUrl = `http://127.0.0.1:${server.port}`
const clerk = createClerkClient({ secretKey: h.env.secretKey, apiUrl })
await h.bapi('PATCH', '/v1/instance', { organizations: { enabled: true } })

const results: Array<[string, boolean, string]> = []
const ids = (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string'
async function probe<T>(
  name: string,
  call: () => Promise<T>,
  ok: (v: T) => boolean = ids,
): Promise<T | null> {
  try {
    const v = await call()
    const good = ok(v)
    results.push([name, good, good ? '' : `unexpected: ${JSON.stringify(v)?.slice(0, 120)}`])
    return good ? v : null
  } catch (err) {
    const e = err as { status?: number; errors?: Array<{ code: string }>; message?: string }
    results.push([name, false, `${e.status ?? ''} ${e.errors?.[0]?.code ?? e.message ?? ''}`.trim()])
    return null
  }
}
const list = (v: { data?: unknown[]; totalCount?: number }) =>
  Array.isArray(v.data) && typeof v.totalCount === 'number'

const email = `probe-${process.pid}@example.com`
const u = await probe('users.createUser', () =>
  clerk.users.createUser({ emailAddress: [email], password: PASSWORD, firstName: 'Probe' }),
)
const uid = u?.id ?? 'user_missing'
await probe(
  'users.getUser',
  () => clerk.users.getUser(uid),
  (v) => v.firstName === 'Probe',
)
await probe('users.getUserList', () => clerk.users.getUserList({ limit: 5, offset: 0 }), list)
await probe(
  'users.getCount',
  () => clerk.users.getCount(),
  (v) => v === 1,
)
await probe(
  'users.updateUser',
  () => clerk.users.updateUser(uid, { lastName: 'P' }),
  (v) => v.lastName === 'P',
)
await probe(
  'users.updateUserMetadata',
  () => clerk.users.updateUserMetadata(uid, { publicMetadata: { a: 1 } }),
  (v) => v.publicMetadata.a === 1,
)
await probe(
  'users.banUser',
  () => clerk.users.banUser(uid),
  (v) => v.banned === true,
)
await probe(
  'users.unbanUser',
  () => clerk.users.unbanUser(uid),
  (v) => v.banned === false,
)
await probe(
  'users.lockUser',
  () => clerk.users.lockUser(uid),
  (v) => v.locked === true,
)
await probe(
  'users.unlockUser',
  () => clerk.users.unlockUser(uid),
  (v) => v.locked === false,
)
await probe(
  'users.verifyPassword',
  () => clerk.users.verifyPassword({ userId: uid, password: PASSWORD }),
  (v) => v.verified === true,
)
await probe(
  'users.getOrganizationMembershipList',
  () => clerk.users.getOrganizationMembershipList({ userId: uid }),
  list,
)
await probe(
  'users.getUserOauthAccessToken',
  () => clerk.users.getUserOauthAccessToken(uid, 'google'),
  (v) => Array.isArray(v.data),
)

const org = await probe('organizations.createOrganization', () =>
  clerk.organizations.createOrganization({ name: 'Probe org', createdBy: uid }),
)
const oid = org?.id ?? 'org_missing'
await probe(
  'organizations.getOrganization',
  () => clerk.organizations.getOrganization({ organizationId: oid }),
  (v) => v.name === 'Probe org',
)
await probe('organizations.getOrganizationList', () => clerk.organizations.getOrganizationList(), list)
await probe(
  'organizations.updateOrganization',
  () => clerk.organizations.updateOrganization(oid, { name: 'Probe org 2' }),
  (v) => v.name === 'Probe org 2',
)
await probe(
  'organizations.updateOrganizationMetadata',
  () => clerk.organizations.updateOrganizationMetadata(oid, { publicMetadata: { b: 2 } }),
  (v) => v.publicMetadata?.b === 2,
)
const member = await probe('users.createUser (member)', () =>
  clerk.users.createUser({ emailAddress: [`m-${email}`], password: PASSWORD }),
)
const mid = member?.id ?? 'user_missing'
await probe('organizations.createOrganizationMembership', () =>
  clerk.organizations.createOrganizationMembership({ organizationId: oid, userId: mid, role: 'org:member' }),
)
await probe(
  'organizations.getOrganizationMembershipList',
  () => clerk.organizations.getOrganizationMembershipList({ organizationId: oid }),
  list,
)
await probe(
  'organizations.updateOrganizationMembership',
  () =>
    clerk.organizations.updateOrganizationMembership({ organizationId: oid, userId: mid, role: 'org:admin' }),
  (v) => v.role === 'org:admin',
)
await probe(
  'organizations.updateOrganizationMembershipMetadata',
  () =>
    clerk.organizations.updateOrganizationMembershipMetadata({
      organizationId: oid,
      userId: mid,
      publicMetadata: { c: 3 },
    }),
  (v) => v.publicMetadata?.c === 3,
)
await probe('organizations.deleteOrganizationMembership', () =>
  clerk.organizations.deleteOrganizationMembership({ organizationId: oid, userId: mid }),
)
const oinv = await probe('organizations.createOrganizationInvitation', () =>
  clerk.organizations.createOrganizationInvitation({
    organizationId: oid,
    emailAddress: `oi-${email}`,
    role: 'org:member',
    inviterUserId: uid,
  }),
)
await probe(
  'organizations.getOrganizationInvitationList',
  () => clerk.organizations.getOrganizationInvitationList({ organizationId: oid, status: ['pending'] }),
  list,
)
await probe('organizations.getOrganizationInvitation', () =>
  clerk.organizations.getOrganizationInvitation({ organizationId: oid, invitationId: oinv?.id ?? 'x' }),
)
await probe(
  'organizations.revokeOrganizationInvitation',
  () =>
    clerk.organizations.revokeOrganizationInvitation({
      organizationId: oid,
      invitationId: oinv?.id ?? 'x',
      requestingUserId: uid,
    }),
  (v) => v.status === 'revoked',
)

const inv = await probe('invitations.createInvitation', () =>
  clerk.invitations.createInvitation({ emailAddress: `i-${email}`, notify: false }),
)
await probe('invitations.getInvitationList', () => clerk.invitations.getInvitationList(), list)
await probe(
  'invitations.revokeInvitation',
  () => clerk.invitations.revokeInvitation(inv?.id ?? 'x'),
  (v) => v.revoked === true,
)

const b = browser(h)
const signIn = await b.json('POST', '/v1/client/sign-ins', {
  identifier: email,
  password: PASSWORD,
  strategy: 'password',
})
const sid: string = signIn.body?.response?.created_session_id ?? 'sess_missing'
const cid: string = signIn.body?.client?.id ?? 'client_missing'
await probe('sessions.getSessionList', () => clerk.sessions.getSessionList({ userId: uid }), list)
await probe(
  'sessions.getSession',
  () => clerk.sessions.getSession(sid),
  (v) => v.userId === uid,
)
const token = await probe(
  'sessions.getToken',
  () => clerk.sessions.getToken(sid),
  (v) => typeof v.jwt === 'string',
)
await probe(
  'clients.getClient',
  () => clerk.clients.getClient(cid),
  (v) => v.sessions?.[0]?.id === sid,
)
await probe(
  'clients.verifyClient',
  () => clerk.clients.verifyClient(b.cookie ?? ''),
  (v) => v.id === cid,
)
await probe('clients.getClientList', () => clerk.clients.getClientList(), list)

const tpl = await probe('jwtTemplates.create', () =>
  clerk.jwtTemplates.create({ name: 'probe', claims: { a: 1 } }),
)
await probe('jwtTemplates.list', () => clerk.jwtTemplates.list(), list)
await probe(
  'jwtTemplates.get',
  () => clerk.jwtTemplates.get(tpl?.id ?? 'x'),
  (v) => v.name === 'probe',
)
await probe(
  'jwtTemplates.update',
  () => clerk.jwtTemplates.update({ templateId: tpl?.id ?? 'x', name: 'probe', claims: { a: 2 } }),
  (v) => (v.claims as Record<string, unknown>).a === 2,
)
await probe(
  'sessions.getToken (template)',
  () => clerk.sessions.getToken(sid, 'probe'),
  (v) => typeof v.jwt === 'string',
)
await probe('jwtTemplates.delete', () => clerk.jwtTemplates.delete(tpl?.id ?? 'x'))

await probe('signInTokens.createSignInToken', () =>
  clerk.signInTokens.createSignInToken({ userId: uid, expiresInSeconds: 600 }),
)
await probe(
  'jwks.getJwks',
  () => clerk.jwks.getJwks(),
  (v) => (v.keys?.length ?? 0) > 0,
)
await probe(
  'instance.getOrganizationSettings',
  () => clerk.instance.getOrganizationSettings(),
  (v) => v.enabled,
)
await probe(
  'verifyToken (networked)',
  () => verifyToken(token?.jwt ?? '', { secretKey: h.env.secretKey, apiUrl }),
  (v) => v.sid === sid,
)
await probe(
  'authenticateRequest (Bearer header)',
  () =>
    clerk.authenticateRequest(
      new Request('https://app.example.test/', { headers: { authorization: `Bearer ${token?.jwt}` } }),
      {
        publishableKey: h.env.publishableKey,
      },
    ),
  (v) => v.status === 'signed-in',
)
await probe(
  'sessions.revokeSession',
  () => clerk.sessions.revokeSession(sid),
  (v) => v.status === 'revoked',
)
await probe('organizations.deleteOrganization', () => clerk.organizations.deleteOrganization(oid))
await probe('users.deleteUser', () => clerk.users.deleteUser(uid))

for (const [name, good, why] of results)
  console.log(`${good ? 'works' : 'FAILS'}  ${name}${why ? `  (${why})` : ''}`)
console.log(`${results.filter((r) => r[1]).length} of ${results.length} calls work`)
await server.stop(true)
h.close()
