import { and, asc, count, eq } from 'drizzle-orm'
import { seal, unseal } from '../../crypto/seal'
import { rawSelect } from '../../db/raw'
import { AppError, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx } from '../../tenancy/open'
import { emit } from '../events/service'
import type { ExternalAccountResource } from './model'
import { type ExternalAccountRow, externalAccounts } from './schema'

export type { ExternalAccountRow }

type Db = EnvContext['db'] | EnvTx

/** What a provider told us, as stored on the account (refreshed on every sign-in). */
export interface ExternalProfile {
  providerUserId: string
  email: string | null
  emailVerified: boolean
  firstName: string | null
  lastName: string | null
  username: string | null
  imageUrl: string | null
}

export interface ExternalTokens {
  accessToken: string
  refreshToken: string | null
  expiresAt: number | null
  scopes: string[]
}

const tokenAad = (id: string, which: 'access' | 'refresh') => `external_accounts.${which}_token:${id}`

export function toExternalAccountResource(row: ExternalAccountRow): ExternalAccountResource {
  return {
    object: 'external_account' as const,
    id: row.id,
    provider: row.provider,
    /** The strategy that signs in with it. */
    strategy: `oauth_${row.provider}`,
    provider_user_id: row.providerUserId,
    email_address: row.emailAddress ?? '',
    email_address_verified: row.emailAddressVerified,
    first_name: row.firstName,
    last_name: row.lastName,
    username: row.username,
    image_url: row.imageUrl,
    approved_scopes: row.approvedScopes,
    verification: { status: 'verified' as const, strategy: `oauth_${row.provider}` },
    last_authenticated_at: row.lastAuthenticatedAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  }
}

/** The user's external accounts as resources (every user resource carries them: a raw prepared read). */
export function externalAccountResources(ctx: EnvContext, userId: string): ExternalAccountResource[] {
  const rows = ctx
    .prepared('external_accounts.of_user', () =>
      rawSelect(ctx.client, externalAccounts, 'user_id = ? order by created_at, id'),
    )
    .all(userId)
  return rows.map(toExternalAccountResource)
}

export const countAccountsOfProvider = (db: Db, providerId: string): number =>
  db
    .select({ n: count() })
    .from(externalAccounts)
    .where(eq(externalAccounts.oauthProviderId, providerId))
    .get()?.n ?? 0

/** The account of an identity at a provider, whoever has it. */
export const accountByIdentity = (db: Db, providerId: string, providerUserId: string) =>
  db
    .select()
    .from(externalAccounts)
    .where(
      and(
        eq(externalAccounts.oauthProviderId, providerId),
        eq(externalAccounts.providerUserId, providerUserId),
      ),
    )
    .get() ?? null

export const accountsOfUser = (db: Db, userId: string): ExternalAccountRow[] =>
  db
    .select()
    .from(externalAccounts)
    .where(eq(externalAccounts.userId, userId))
    .orderBy(asc(externalAccounts.createdAt), asc(externalAccounts.id))
    .all()

/** The user's account with this id, or 404 (another user's account is not found either). */
export function requireOwnAccount(db: Db, userId: string, id: string): ExternalAccountRow {
  const row = isId('externalAccount', id)
    ? db
        .select()
        .from(externalAccounts)
        .where(and(eq(externalAccounts.id, id), eq(externalAccounts.userId, userId)))
        .get()
    : undefined
  if (!row) throw notFound('external account')
  return row
}

/** The user's account at a provider (by the provider's key), or null. */
export const accountOfUserAt = (db: Db, userId: string, provider: string) =>
  db
    .select()
    .from(externalAccounts)
    .where(and(eq(externalAccounts.userId, userId), eq(externalAccounts.provider, provider)))
    .orderBy(asc(externalAccounts.createdAt))
    .get() ?? null

const sealTokens = (ctx: EnvContext, id: string, tokens: ExternalTokens) => ({
  accessToken: seal(ctx.dataKey, tokens.accessToken, tokenAad(id, 'access')),
  refreshToken:
    tokens.refreshToken === null ? null : seal(ctx.dataKey, tokens.refreshToken, tokenAad(id, 'refresh')),
  accessTokenExpiresAt: tokens.expiresAt,
  approvedScopes: tokens.scopes.join(' '),
})

export function unsealTokens(ctx: EnvContext, row: ExternalAccountRow) {
  return {
    accessToken:
      row.accessToken === null ? null : unseal(ctx.dataKey, row.accessToken, tokenAad(row.id, 'access')),
    refreshToken:
      row.refreshToken === null ? null : unseal(ctx.dataKey, row.refreshToken, tokenAad(row.id, 'refresh')),
    expiresAt: row.accessTokenExpiresAt,
  }
}

export const accountTaken = () =>
  new AppError(409, [
    {
      code: 'external_account_exists',
      message: 'already linked',
      long_message: 'This account at the provider is already connected to another user.',
    },
  ])

/** Links an identity to a user (emits externalAccount.created). */
export function linkAccount(
  tx: EnvTx,
  ctx: EnvContext,
  input: {
    userId: string
    providerId: string
    provider: string
    profile: ExternalProfile
    tokens: ExternalTokens | null
  },
): ExternalAccountRow {
  if (accountByIdentity(tx, input.providerId, input.profile.providerUserId)) throw accountTaken()
  const now = ctx.clock.now()
  const id = newId('externalAccount')
  const row: ExternalAccountRow = {
    id,
    userId: input.userId,
    oauthProviderId: input.providerId,
    provider: input.provider,
    providerUserId: input.profile.providerUserId,
    emailAddress: input.profile.email,
    emailAddressVerified: input.profile.emailVerified,
    firstName: input.profile.firstName,
    lastName: input.profile.lastName,
    username: input.profile.username,
    imageUrl: input.profile.imageUrl,
    approvedScopes: '',
    accessToken: null,
    refreshToken: null,
    accessTokenExpiresAt: null,
    lastAuthenticatedAt: now,
    createdAt: now,
    updatedAt: now,
    ...(input.tokens ? sealTokens(ctx, id, input.tokens) : {}),
  }
  tx.insert(externalAccounts).values(row).run()
  emit(tx, ctx, 'externalAccount.created', { ...toExternalAccountResource(row), user_id: row.userId })
  return row
}

/** A sign-in with the account: the stored profile and tokens follow the provider's. */
export function refreshAccount(
  tx: EnvTx,
  ctx: EnvContext,
  row: ExternalAccountRow,
  profile: ExternalProfile,
  tokens: ExternalTokens | null,
) {
  const now = ctx.clock.now()
  tx.update(externalAccounts)
    .set({
      emailAddress: profile.email,
      emailAddressVerified: profile.emailVerified,
      firstName: profile.firstName,
      lastName: profile.lastName,
      username: profile.username,
      imageUrl: profile.imageUrl,
      lastAuthenticatedAt: now,
      updatedAt: now,
      ...(tokens ? sealTokens(ctx, row.id, tokens) : {}),
    })
    .where(eq(externalAccounts.id, row.id))
    .run()
}

/** New tokens from a refresh. */
export function storeTokens(ctx: EnvContext, row: ExternalAccountRow, tokens: ExternalTokens) {
  ctx.db
    .update(externalAccounts)
    .set({ ...sealTokens(ctx, row.id, tokens), updatedAt: ctx.clock.now() })
    .where(eq(externalAccounts.id, row.id))
    .run()
}

/** Unlinks (emits externalAccount.deleted). */
export function unlinkAccount(tx: EnvTx, ctx: EnvContext, row: ExternalAccountRow) {
  tx.delete(externalAccounts).where(eq(externalAccounts.id, row.id)).run()
  emit(tx, ctx, 'externalAccount.deleted', {
    object: 'external_account',
    id: row.id,
    deleted: true,
    user_id: row.userId,
    provider: row.provider,
  })
}
