import { and, count, eq } from 'drizzle-orm'
import { randomToken } from '../../crypto/secrets'
import { pageOf, tablePage } from '../../db/pages'
import { withTx } from '../../db/tx'
import { AppError, formError, formIdentifierExists, formParamMissing, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { alreadyVerified } from '../challenges/errors'
import {
  answerWithCode,
  assertAnswerable,
  type ChallengeRow,
  deleteChallengesOf,
  findChallenge,
  issueCodeChallenge,
  issueLocalChallenge,
  latestChallenge,
  markVerified,
  requireChallenge,
} from '../challenges/service'
import { emit } from '../events/service'
import { normalizeEmail } from '../users/identifiers'
import { enrollExistingUsers } from './enrollment'
import { badRequest, domainsDisabled } from './errors'
import { type DomainRow, type EnrollmentMode, organizationDomains, organizationInvitations } from './schema'
import {
  dnsRecordName,
  emailAtDomain,
  toDomainChallengeResource,
  toDomainResource,
  toInvitationResources,
} from './serialize'
import { assertOrganizationsEnabled, requireOrganization } from './service'

/** How many domains one organization may have. */
export const MAX_DOMAINS_PER_ORG = 10

/** The names of the domains this organization has verified (lower-case host names). */
export const verifiedDomainNames = (db: EnvContext['db'] | EnvTx, organizationId: string): string[] =>
  db
    .select({ name: organizationDomains.name })
    .from(organizationDomains)
    .where(
      and(eq(organizationDomains.organizationId, organizationId), eq(organizationDomains.verified, true)),
    )
    .all()
    .map((d) => d.name)
/** A dns_txt challenge waits this long for the record to appear (DNS takes its time). */
export const DNS_CHALLENGE_TTL_MS = 7 * 86400_000

/** Mail providers anyone can have an address at: they prove no affiliation. */
const COMMON_PROVIDERS = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'ymail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'web.de',
  'yandex.ru',
  'mail.ru',
  'qq.com',
  '163.com',
  'zoho.com',
  'fastmail.com',
  'hey.com',
])

const HOST = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/

function assertDomainsEnabled(ctx: EnvContext) {
  assertOrganizationsEnabled(ctx)
  if (!ctx.settings().organizations.domains_enabled) throw domainsDisabled()
}

function normalizeDomain(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/\.$/, '')
  if (!HOST.test(name))
    throw formError('form_param_format_invalid', 'name', 'is invalid', `${raw} is not a domain name.`)
  if (COMMON_PROVIDERS.has(name))
    throw new AppError(400, [
      {
        code: 'organization_domain_common',
        message: 'common email provider',
        long_message: `${name} is a public email provider; it cannot belong to an organization.`,
        meta: { param_name: 'name' },
      },
    ])
  return name
}

const domainResource = (ctx: EnvContext, db: EnvContext['db'] | EnvTx, d: DomainRow) =>
  toDomainResource(ctx, db, d, latestChallenge(db, 'organization_domain', d.id))

function requireDomain(db: EnvContext['db'] | EnvTx, organizationId: string, id: string): DomainRow {
  const row = isId('domain', id)
    ? db
        .select()
        .from(organizationDomains)
        .where(and(eq(organizationDomains.id, id), eq(organizationDomains.organizationId, organizationId)))
        .get()
    : undefined
  if (!row) throw notFound('organization domain')
  return row
}

export function addDomain(
  ctx: EnvContext,
  idOrSlug: string,
  input: { name: string; enrollment_mode?: EnrollmentMode; verified?: boolean },
) {
  assertDomainsEnabled(ctx)
  const name = normalizeDomain(input.name)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    if (
      tx
        .select({ id: organizationDomains.id })
        .from(organizationDomains)
        .where(eq(organizationDomains.name, name))
        .get()
    )
      throw formIdentifierExists('name')
    const have =
      tx
        .select({ n: count() })
        .from(organizationDomains)
        .where(eq(organizationDomains.organizationId, org.id))
        .get()?.n ?? 0
    if (have >= MAX_DOMAINS_PER_ORG)
      throw new AppError(403, [
        {
          code: 'organization_domain_quota_exceeded',
          message: 'too many domains',
          long_message: `An organization has at most ${MAX_DOMAINS_PER_ORG} domains.`,
        },
      ])
    const now = ctx.clock.now()
    const verified = input.verified === true
    const row: DomainRow = {
      id: newId('domain'),
      organizationId: org.id,
      name,
      enrollmentMode: input.enrollment_mode ?? 'manual_invitation',
      verified,
      // An operator's word (BAPI `verified: true`) stands in for a challenge.
      verificationStrategy: verified ? 'admin' : null,
      verifiedAt: verified ? now : null,
      affiliationEmailAddress: null,
      dnsToken: `authn-domain-verification=${randomToken(24)}`,
      createdAt: now,
      updatedAt: now,
    }
    tx.insert(organizationDomains).values(row).run()
    const resource = domainResource(ctx, tx, row)
    emit(tx, ctx, 'organizationDomain.created', resource)
    enrollExistingUsers(tx, ctx, row)
    return verified ? domainResource(ctx, tx, row) : resource
  })
}

export function listDomains(
  ctx: EnvContext,
  idOrSlug: string,
  q: { verified?: boolean; limit?: number; cursor?: string; include_total_count?: boolean },
) {
  assertOrganizationsEnabled(ctx)
  const org = requireOrganization(ctx.db, idOrSlug)
  const filter = and(
    eq(organizationDomains.organizationId, org.id),
    q.verified === undefined ? undefined : eq(organizationDomains.verified, q.verified),
  )
  const page = tablePage(ctx, organizationDomains, filter, q)
  return pageOf(
    page.rows.map((d) => domainResource(ctx, ctx.db, d)),
    page.next_cursor,
    page.total,
  )
}

/** A verified domain switched to an automatic mode enrolls the users already at it. */
export function updateDomain(
  ctx: EnvContext,
  idOrSlug: string,
  domainId: string,
  input: { enrollment_mode?: EnrollmentMode },
) {
  assertDomainsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const d = requireDomain(tx, org.id, domainId)
    const next: DomainRow = {
      ...d,
      enrollmentMode: input.enrollment_mode ?? d.enrollmentMode,
      updatedAt: ctx.clock.now(),
    }
    tx.update(organizationDomains)
      .set({ enrollmentMode: next.enrollmentMode, updatedAt: next.updatedAt })
      .where(eq(organizationDomains.id, d.id))
      .run()
    if (next.enrollmentMode !== d.enrollmentMode) enrollExistingUsers(tx, ctx, next)
    const resource = domainResource(ctx, tx, next)
    emit(tx, ctx, 'organizationDomain.updated', resource)
    return resource
  })
}

/** Pending automatic invitations to the domain's addresses are revoked with it. */
export function deleteDomain(ctx: EnvContext, idOrSlug: string, domainId: string) {
  assertOrganizationsEnabled(ctx)
  return withTx(ctx, (tx) => {
    const org = requireOrganization(tx, idOrSlug)
    const d = requireDomain(tx, org.id, domainId)
    const now = ctx.clock.now()
    const automatic = tx
      .select()
      .from(organizationInvitations)
      .where(
        and(
          eq(organizationInvitations.organizationId, org.id),
          eq(organizationInvitations.source, 'domain'),
          eq(organizationInvitations.status, 'pending'),
          emailAtDomain(organizationInvitations.emailAddress, d.name),
        ),
      )
      .all()
    for (const inv of automatic) {
      tx.update(organizationInvitations)
        .set({ status: 'revoked', updatedAt: now })
        .where(eq(organizationInvitations.id, inv.id))
        .run()
      emit(
        tx,
        ctx,
        'organizationInvitation.revoked',
        toInvitationResources(ctx, tx, [{ ...inv, status: 'revoked', updatedAt: now }])[0]!,
      )
    }
    deleteChallengesOf(tx, 'organization_domain', d.id)
    tx.delete(organizationDomains).where(eq(organizationDomains.id, d.id)).run()
    const deleted = {
      object: 'organization_domain' as const,
      id: d.id,
      organization_id: org.id,
      name: d.name,
      deleted: true as const,
    }
    emit(tx, ctx, 'organizationDomain.deleted', deleted)
    return deleted
  })
}

// ---- verification -------------------------------------------------------------------------

/**
 * Starts verifying affiliation: `dns_txt` (publish our token as a TXT record at
 * `_authn-verification.<domain>`; polling the challenge looks it up) or `email_code` (a code
 * to an address at the domain).
 */
export function createDomainChallenge(
  ctx: EnvContext,
  idOrSlug: string,
  domainId: string,
  input: { strategy: 'dns_txt' | 'email_code'; email_address?: string },
) {
  assertDomainsEnabled(ctx)
  const org = requireOrganization(ctx.db, idOrSlug)
  const d = requireDomain(ctx.db, org.id, domainId)
  if (d.verified) throw alreadyVerified()
  const base = {
    parentType: 'organization_domain' as const,
    parentId: d.id,
    step: 'affiliation' as const,
    strategy: input.strategy,
    clientId: null,
  }
  const c = withTx(ctx, (tx, after) => {
    if (input.strategy === 'email_code') {
      if (!input.email_address) throw formParamMissing('email_address')
      const email = normalizeEmail(input.email_address)
      if (email.slice(email.lastIndexOf('@') + 1) !== d.name)
        throw formError(
          'form_param_value_invalid',
          'email_address',
          'is not at the domain',
          `The address must be at ${d.name}.`,
        )
      return issueCodeChallenge(tx, ctx, after, {
        ...base,
        target: { id: null, value: email },
        channel: 'email',
        template: 'verification_code',
      })
    }
    return issueLocalChallenge(tx, ctx, { ...base, ttlMs: DNS_CHALLENGE_TTL_MS })
  })
  return toDomainChallengeResource(ctx, c, d)
}

/** Marks the domain verified (in the caller's transaction) and enrolls the users already at it. */
function verifyDomain(
  tx: EnvTx,
  ctx: EnvContext,
  d: DomainRow,
  c: ChallengeRow,
  affiliationEmail: string | null,
) {
  const current = tx.select().from(organizationDomains).where(eq(organizationDomains.id, d.id)).get()
  if (!current || current.verified) return
  if (c.status !== 'verified') markVerified(tx, ctx, c)
  const now = ctx.clock.now()
  const verified: DomainRow = {
    ...current,
    verified: true,
    verificationStrategy: c.strategy,
    verifiedAt: now,
    affiliationEmailAddress: affiliationEmail,
    updatedAt: now,
  }
  tx.update(organizationDomains)
    .set({
      verified: true,
      verificationStrategy: c.strategy,
      verifiedAt: now,
      affiliationEmailAddress: affiliationEmail,
      updatedAt: now,
    })
    .where(eq(organizationDomains.id, d.id))
    .run()
  emit(tx, ctx, 'organizationDomain.updated', domainResource(ctx, tx, verified))
  enrollExistingUsers(tx, ctx, verified)
}

/** Is our token published? Resolver failures count as "not yet" and are logged. */
async function txtPublished(ctx: EnvContext, d: DomainRow): Promise<boolean | 'lookup_failed'> {
  try {
    return (await ctx.dns.resolveTxt(dnsRecordName(d.name))).some((v) => v.trim() === d.dnsToken)
  } catch (err) {
    ctx.log.warn({ err, domain: d.name }, 'TXT lookup failed')
    return 'lookup_failed'
  }
}

function loadChallenge(ctx: EnvContext, idOrSlug: string, domainId: string, cid: string) {
  const org = requireOrganization(ctx.db, idOrSlug)
  const d = requireDomain(ctx.db, org.id, domainId)
  const c = requireChallenge(ctx, 'organization_domain', d.id, cid)
  return { org, d, c }
}

/** Polling a dns_txt challenge looks the record up; it verifies once the record is there. */
export async function getDomainChallenge(ctx: EnvContext, idOrSlug: string, domainId: string, cid: string) {
  assertOrganizationsEnabled(ctx)
  const { d, c } = loadChallenge(ctx, idOrSlug, domainId, cid)
  if (c.strategy === 'dns_txt' && c.status === 'unverified' && ctx.clock.now() < c.expireAt && !d.verified) {
    if ((await txtPublished(ctx, d)) === true) withTx(ctx, (tx) => verifyDomain(tx, ctx, d, c, null))
  }
  return toDomainChallengeResource(ctx, findChallenge(ctx, 'organization_domain', d.id, c.id)!, d)
}

/** `{code}` for email_code; for dns_txt an empty body checks the record now. Answers the domain. */
export async function answerDomainChallenge(
  ctx: EnvContext,
  idOrSlug: string,
  domainId: string,
  cid: string,
  input: { code?: string },
) {
  assertDomainsEnabled(ctx)
  const { d, c } = loadChallenge(ctx, idOrSlug, domainId, cid)
  if (c.strategy === 'dns_txt') {
    assertAnswerable(c, ctx.clock.now())
    const found = await txtPublished(ctx, d)
    if (found === 'lookup_failed')
      throw badRequest('dns_lookup_failed', 'DNS lookup failed', 'The DNS lookup failed. Try again shortly.')
    if (!found)
      throw badRequest(
        'dns_record_not_found',
        'TXT record not found',
        `No TXT record ${dnsRecordName(d.name)} with the verification value was found.`,
      )
    withTx(ctx, (tx) => verifyDomain(tx, ctx, d, c, null))
  } else {
    if (input.code === undefined) throw formParamMissing('code')
    answerWithCode(ctx, c, input.code, (tx, verified) => verifyDomain(tx, ctx, d, verified, c.target))
  }
  return domainResource(ctx, ctx.db, requireDomain(ctx.db, d.organizationId, d.id))
}
