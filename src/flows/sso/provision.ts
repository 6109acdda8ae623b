import {
  findLinkedAccount,
  type IdpIdentity,
  linkAccount,
  touchAccount,
} from '../../domain/enterprise-sso/accounts'
import type { EnterpriseConnectionRow } from '../../domain/enterprise-sso/schema'
import { roleByKey } from '../../domain/organizations/rbac'
import { findMembership, findOrganization, insertMembership } from '../../domain/organizations/service'
import { emailOwner, verifiedEmailOwner } from '../../domain/users/identifiers'
import { insertUser } from '../../domain/users/service'
import { AppError } from '../../lib/errors'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'

/**
 * Who an IdP-vouched identity is here (reference/enterprise-sso.md §1.2), in the caller's
 * transaction: the linked enterprise account; else the user with that verified email, linked
 * now; else, with JIT provisioning, a new user (email verified by `saml` / `oidc`). An existing
 * but unverified address is never taken over. Org-scoped connections make the user a member
 * with the org's default role.
 */
export function provisionEnterpriseUser(
  tx: EnvTx,
  ctx: EnvContext,
  connection: EnterpriseConnectionRow,
  identity: IdpIdentity & { emailAddress: string },
): string {
  const linked = findLinkedAccount(tx, connection.id, identity.subject)
  let userId: string
  if (linked) {
    touchAccount(tx, ctx, linked, identity, connection.syncUserAttributes)
    userId = linked.userId
  } else {
    const owner = verifiedEmailOwner(tx, identity.emailAddress)
    if (owner) {
      userId = owner
    } else if (emailOwner(tx, identity.emailAddress)) {
      throw new AppError(409, [
        {
          code: 'enterprise_sso_email_unverified',
          message: 'unverified account',
          long_message:
            'An account with this email address exists but has not verified it, so it cannot be linked to your identity provider. Verify the address first, or ask an administrator.',
        },
      ])
    } else if (!connection.jitProvisioning) {
      throw new AppError(403, [
        {
          code: 'enterprise_sso_jit_disabled',
          message: 'no account',
          long_message:
            'There is no account for you here yet, and this connection does not create accounts. Ask an administrator.',
        },
      ])
    } else {
      userId = insertUser(tx, ctx, {
        emails: [{ address: identity.emailAddress, strategy: connection.protocol }],
        phones: [],
        username: null,
        externalId: null,
        firstName: identity.firstName,
        lastName: identity.lastName,
        passwordDigest: null,
        publicMetadata: {},
        privateMetadata: {},
        unsafeMetadata: {},
      }).id
    }
    linkAccount(tx, ctx, connection, userId, identity)
  }
  ensureMembership(tx, ctx, connection, userId)
  return userId
}

function ensureMembership(tx: EnvTx, ctx: EnvContext, connection: EnterpriseConnectionRow, userId: string) {
  if (!connection.organizationId) return
  const org = findOrganization(tx, connection.organizationId)
  if (!org || findMembership(tx, org.id, userId)) return
  const role = roleByKey(tx, ctx.settings().organizations.default_role)
  if (!role) return
  insertMembership(tx, ctx, { org, userId, role, checkRoom: false })
}
