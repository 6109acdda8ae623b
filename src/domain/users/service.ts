import { and, asc, desc, eq, gt, inArray, lt, or, type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import { type ImportedHasher, importedDigestProblem } from '../../crypto/passwords'
import { keysetPage, type Page } from '../../db/pages'
import { withTx } from '../../db/tx'
import { AppError, assertThat, formError, formParamMissing, notFound } from '../../lib/errors'
import { isId, newId } from '../../lib/ids'
import type { EnvContext } from '../../tenancy/context'
import type { EnvTx as Tx } from '../../tenancy/open'
import { emit } from '../events/service'
import { SECOND_FACTOR_COLUMNS_SQL, secondFactorSummaries, secondFactorSummary } from '../mfa/service'
import {
  assertEmailFree,
  assertExternalIdFree,
  assertPhoneFree,
  assertUsernameFree,
  normalizeEmail,
  normalizePhone,
  normalizeUsername,
} from './identifiers'
import { checkMetadata, mergeMetadataPatch } from './metadata'
import type {
  CreateUserBody,
  ListUsersQuery,
  MetadataBody,
  UpdateUserBody,
  UserFilters,
  UserResource,
} from './model'
import { checkPasswordPolicy } from './password-policy'
import { emailAddresses, phoneNumbers, type UserRow, users } from './schema'
import { toUserResource, type UserAggregate } from './serialize'

type Db = EnvContext['db'] | Tx

// ---- reads -------------------------------------------------------------------------------

interface UserAggregateRow {
  id: string
  external_id: string | null
  username: string | null
  first_name: string | null
  last_name: string | null
  image_url: string | null
  password_digest: string | null
  password_updated_at: number | null
  public_metadata: string
  private_metadata: string
  unsafe_metadata: string
  primary_email_address_id: string | null
  primary_phone_number_id: string | null
  banned: number
  locked_at: number | null
  locked_until: number | null
  failed_verification_attempts: number
  last_sign_in_at: number
  last_active_at: number | null
  created_at: number
  updated_at: number
  emails: string
  phones: string
  totp: number | null
  backup_codes: number
}
type EmailTuple = [string, string, number, string | null, number, number]
type PhoneTuple = [string, string, number, string | null, number, number, number, number]

/**
 * The hot read (every BAPI user fetch, every session token with user claims): one bun:sqlite
 * statement prepared once per env handle, with the identifiers as JSON arrays from correlated
 * subqueries. It bypasses drizzle's row mapping, which cost more than the query itself
 * (bench/README.md); `loadUser` below is the drizzle twin used inside transactions, and the
 * users tests compare the two. The second-factor columns come from the mfa capability, which
 * owns those tables (SECOND_FACTOR_COLUMNS_SQL).
 */
export function findUser(ctx: EnvContext, id: string): UserAggregate | null {
  if (!isId('user', id)) return null
  const row = ctx
    .prepared('users.aggregate', () =>
      ctx.client.query<UserAggregateRow, [string]>(
        `select u.*,
          (select json_group_array(json_array(id, email_address, verified, verification_strategy, created_at, updated_at))
             from (select * from email_addresses e where e.user_id = u.id order by e.created_at, e.id)) as emails,
          (select json_group_array(json_array(id, phone_number, verified, verification_strategy, reserved_for_second_factor, default_second_factor, created_at, updated_at))
             from (select * from phone_numbers p where p.user_id = u.id order by p.created_at, p.id)) as phones,
          ${SECOND_FACTOR_COLUMNS_SQL}
         from users u where u.id = ?`,
      ),
    )
    .get(id)
  if (!row) return null
  return {
    user: {
      id: row.id,
      externalId: row.external_id,
      username: row.username,
      firstName: row.first_name,
      lastName: row.last_name,
      imageUrl: row.image_url,
      passwordDigest: row.password_digest,
      passwordUpdatedAt: row.password_updated_at,
      publicMetadata: JSON.parse(row.public_metadata),
      privateMetadata: JSON.parse(row.private_metadata),
      unsafeMetadata: JSON.parse(row.unsafe_metadata),
      primaryEmailAddressId: row.primary_email_address_id,
      primaryPhoneNumberId: row.primary_phone_number_id,
      banned: row.banned === 1,
      lockedAt: row.locked_at,
      lockedUntil: row.locked_until,
      failedVerificationAttempts: row.failed_verification_attempts,
      lastSignInAt: row.last_sign_in_at,
      lastActiveAt: row.last_active_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    },
    emails: (JSON.parse(row.emails) as EmailTuple[]).map(
      ([eid, emailAddress, verified, verificationStrategy, createdAt, updatedAt]) => ({
        id: eid,
        userId: id,
        emailAddress,
        verified: verified === 1,
        verificationStrategy,
        createdAt,
        updatedAt,
      }),
    ),
    phones: (JSON.parse(row.phones) as PhoneTuple[]).map(
      ([pid, phoneNumber, verified, verificationStrategy, reserved, dflt, createdAt, updatedAt]) => ({
        id: pid,
        userId: id,
        phoneNumber,
        verified: verified === 1,
        verificationStrategy,
        reservedForSecondFactor: reserved === 1,
        defaultSecondFactor: dflt === 1,
        createdAt,
        updatedAt,
      }),
    ),
    mfa: { totp: row.totp === 1, backupCodes: row.backup_codes },
  }
}

export function loadUser(db: Db, id: string): UserAggregate | null {
  const user = db.select().from(users).where(eq(users.id, id)).get()
  if (!user) return null
  return {
    user,
    emails: db
      .select()
      .from(emailAddresses)
      .where(eq(emailAddresses.userId, id))
      .orderBy(asc(emailAddresses.createdAt), asc(emailAddresses.id))
      .all(),
    phones: db
      .select()
      .from(phoneNumbers)
      .where(eq(phoneNumbers.userId, id))
      .orderBy(asc(phoneNumbers.createdAt), asc(phoneNumbers.id))
      .all(),
    mfa: secondFactorSummary(db, id),
  }
}

export function getUser(ctx: EnvContext, id: string): UserResource {
  const user = findUserResource(ctx, id)
  assertThat(user, () => notFound('user'))
  return user
}

/** The user's resource, or null: the user and the accounts it carries in one read transaction. */
export function findUserResource(ctx: EnvContext, id: string): UserResource | null {
  return ctx.read(() => {
    const found = findUser(ctx, id)
    return found ? toUserResource(ctx, found) : null
  })
}

/**
 * findUserResource as JSON, remembered until the env is written to (ctx.remember): backends ask
 * for the same users again and again. Null for a missing user and for a locked one, whose
 * resource counts its lockout down by the clock: callers answer those the long way.
 */
export function userResourceJson(ctx: EnvContext, id: string): string | null {
  return ctx.remember('user-resource-json', id, () => {
    const user = findUserResource(ctx, id)
    return user && !user.locked ? JSON.stringify(user) : null
  })
}

function filterConditions(f: UserFilters): SQL | undefined {
  const conds: Array<SQL | undefined> = []
  if (f.email_address?.length) {
    const list = f.email_address.map((e) => e.trim().toLowerCase())
    conds.push(
      sql`exists (select 1 from ${emailAddresses} where ${emailAddresses.userId} = ${users.id} and ${inArray(emailAddresses.emailAddress, list)})`,
    )
  }
  if (f.phone_number?.length) {
    const list = f.phone_number.map((p) => p.replace(/[\s\-().]/g, ''))
    conds.push(
      sql`exists (select 1 from ${phoneNumbers} where ${phoneNumbers.userId} = ${users.id} and ${inArray(phoneNumbers.phoneNumber, list)})`,
    )
  }
  if (f.username?.length)
    conds.push(
      inArray(
        users.username,
        f.username.map((u) => u.trim().toLowerCase()),
      ),
    )
  if (f.external_id?.length) conds.push(inArray(users.externalId, f.external_id))
  if (f.user_id?.length) conds.push(inArray(users.id, f.user_id))
  if (f.created_at_before !== undefined) conds.push(lt(users.createdAt, f.created_at_before))
  if (f.created_at_after !== undefined) conds.push(gt(users.createdAt, f.created_at_after))
  if (f.query) {
    const pattern = `%${f.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const match = (col: SQLWrapper) => sql`lower(${col}) like ${pattern} escape '\\'`
    conds.push(
      or(
        match(users.id),
        match(users.username),
        match(users.firstName),
        match(users.lastName),
        match(users.externalId),
        sql`exists (select 1 from ${emailAddresses} where ${emailAddresses.userId} = ${users.id} and ${emailAddresses.emailAddress} like ${pattern} escape '\\')`,
        sql`exists (select 1 from ${phoneNumbers} where ${phoneNumbers.userId} = ${users.id} and ${phoneNumbers.phoneNumber} like ${pattern} escape '\\')`,
      ),
    )
  }
  return and(...conds)
}

const ORDER_COLUMNS = {
  created_at: sql`${users.createdAt}`,
  updated_at: sql`${users.updatedAt}`,
  last_sign_in_at: sql`${users.lastSignInAt}`,
} as const
const orderValue = (u: UserRow, key: keyof typeof ORDER_COLUMNS) =>
  key === 'created_at' ? u.createdAt : key === 'updated_at' ? u.updatedAt : u.lastSignInAt

export function listUsers(ctx: EnvContext, q: ListUsersQuery): Page<UserResource> {
  const orderBy = q.order_by ?? '-created_at'
  const descending = !orderBy.startsWith('+') && orderBy.startsWith('-')
  const key = orderBy.replace(/^[+-]/, '') as keyof typeof ORDER_COLUMNS
  const col = ORDER_COLUMNS[key]
  const filters = filterConditions(q)
  const page = keysetPage({
    order: orderBy.startsWith('+') ? orderBy.slice(1) : orderBy,
    limit: q.limit ?? 10,
    cursor: q.cursor,
    offset: q.offset,
    sortValue: (u: UserRow) => orderValue(u, key),
    fetch: (after, take) => {
      const cmp = descending ? sql`<` : sql`>`
      const keyset = after
        ? sql`(${col}, ${users.id}) ${cmp} (${Number(after.key[0])}, ${after.key[1]})`
        : undefined
      return ctx.db
        .select()
        .from(users)
        .where(and(filters, keyset))
        .orderBy(...(descending ? [desc(col), desc(users.id)] : [asc(col), asc(users.id)]))
        .limit(take)
        .all()
    },
  })
  const ids = page.rows.map((u) => u.id)
  const emails = ids.length
    ? ctx.db
        .select()
        .from(emailAddresses)
        .where(inArray(emailAddresses.userId, ids))
        .orderBy(asc(emailAddresses.createdAt), asc(emailAddresses.id))
        .all()
    : []
  const phones = ids.length
    ? ctx.db
        .select()
        .from(phoneNumbers)
        .where(inArray(phoneNumbers.userId, ids))
        .orderBy(asc(phoneNumbers.createdAt), asc(phoneNumbers.id))
        .all()
    : []
  const mfa = secondFactorSummaries(ctx.db, ids)
  const data = page.rows.map((user) =>
    toUserResource(ctx, {
      user,
      emails: emails.filter((e) => e.userId === user.id),
      phones: phones.filter((p) => p.userId === user.id),
      mfa: mfa.get(user.id)!,
    }),
  )
  // Only when asked, unlike other lists: Clerk answers this one without a total (its SDK counts
  // with /v1/users/count and would nest a list that has one inside its own answer).
  const total = q.include_total_count || q.paginated ? countUsers(ctx, q).total_count : undefined
  return {
    data,
    ...(total !== undefined ? { total_count: total } : {}),
    meta: { next_cursor: page.next_cursor },
  }
}

export function countUsers(ctx: EnvContext, f: UserFilters) {
  const n = ctx.db.select({ n: sql<number>`count(*)` }).from(users).where(filterConditions(f)).get()?.n ?? 0
  return { object: 'total_count' as const, total_count: n }
}

// ---- writes ------------------------------------------------------------------------------

function noDuplicates(param: string, values: string[]) {
  if (new Set(values).size !== values.length) {
    throw formError('form_param_duplicate', param, 'has duplicates', `${param} lists the same value twice.`)
  }
}

function disabledIdentifier(param: string) {
  return formError(
    'form_param_unknown',
    param,
    'is not enabled',
    `${param} is not an identifier enabled for this instance.`,
  )
}

/** Hashing happens here, before any transaction: argon2id takes ~100 ms. */
async function passwordDigestFor(
  ctx: EnvContext,
  input: {
    password?: string
    password_digest?: string
    password_hasher?: string
    skip_password_checks?: boolean
  },
): Promise<string | null> {
  if (input.password !== undefined && input.password_digest !== undefined) {
    throw formError(
      'form_param_value_invalid',
      'password_digest',
      'conflicts with password',
      'Send either password or password_digest, not both.',
    )
  }
  if (input.password_digest !== undefined) {
    if (!input.password_hasher) throw formParamMissing('password_hasher')
    // Its shape, and a cost within the bounds every verification of it will be held to.
    const problem = importedDigestProblem(input.password_hasher as ImportedHasher, input.password_digest)
    if (problem) throw formError('form_param_format_invalid', 'password_digest', 'is invalid', problem)
    return input.password_digest
  }
  if (input.password_hasher !== undefined) throw formParamMissing('password_digest')
  if (input.password === undefined) return null
  if (!input.skip_password_checks) checkPasswordPolicy(input.password, ctx.settings().password)
  else if (input.password.length < 1) throw formParamMissing('password')
  return ctx.passwords.hash(input.password)
}

export async function createUser(ctx: EnvContext, input: CreateUserBody): Promise<UserResource> {
  const settings = ctx.settings()
  const ids = settings.identifiers
  const emails = (input.email_address ?? []).map((e) => normalizeEmail(e))
  const phones = (input.phone_number ?? []).map((p) => normalizePhone(p))
  const username = input.username !== undefined ? normalizeUsername(input.username, settings) : null
  if (emails.length && !ids.email_address.enabled) throw disabledIdentifier('email_address')
  if (phones.length && !ids.phone_number.enabled) throw disabledIdentifier('phone_number')
  if (username !== null && !ids.username.enabled) throw disabledIdentifier('username')
  if (ids.email_address.required && !emails.length) throw formParamMissing('email_address')
  if (ids.phone_number.required && !phones.length) throw formParamMissing('phone_number')
  if (ids.username.required && username === null) throw formParamMissing('username')
  if (!emails.length && !phones.length && username === null && input.external_id === undefined) {
    throw formError(
      'form_param_missing',
      'email_address',
      'is missing',
      'A user needs an email address, phone number, username or external_id.',
    )
  }
  noDuplicates('email_address', emails)
  noDuplicates('phone_number', phones)
  for (const m of ['public_metadata', 'private_metadata', 'unsafe_metadata'] as const)
    if (input[m]) checkMetadata(m, input[m])
  const digest = await passwordDigestFor(ctx, input)
  if (digest === null && settings.password.required && !input.skip_password_requirement)
    throw formParamMissing('password')

  return withTx(ctx, (tx) =>
    insertUser(tx, ctx, {
      emails: emails.map((address) => ({ address, strategy: 'admin' })),
      phones: phones.map((number) => ({ number, strategy: 'admin' })),
      username,
      externalId: input.external_id ?? null,
      firstName: input.first_name ?? null,
      lastName: input.last_name ?? null,
      passwordDigest: digest,
      publicMetadata: input.public_metadata ?? {},
      privateMetadata: input.private_metadata ?? {},
      unsafeMetadata: input.unsafe_metadata ?? {},
    }),
  )
}

export interface NewUser {
  /** Normalized and verified identifiers; the first of each kind becomes primary. */
  emails: Array<{ address: string; strategy: string }>
  phones: Array<{ number: string; strategy: string }>
  username: string | null
  externalId: string | null
  firstName: string | null
  lastName: string | null
  passwordDigest: string | null
  publicMetadata: Record<string, unknown>
  privateMetadata: Record<string, unknown>
  unsafeMetadata: Record<string, unknown>
}

/**
 * Inserts a user with its identifiers inside the caller's transaction (BAPI create, sign-up
 * completion), checking uniqueness there so two racing sign-ups cannot both take an address.
 */
export function insertUser(tx: Tx, ctx: EnvContext, input: NewUser): UserResource {
  for (const e of input.emails) assertEmailFree(tx, e.address)
  for (const p of input.phones) assertPhoneFree(tx, p.number)
  if (input.username !== null) assertUsernameFree(tx, input.username)
  if (input.externalId !== null) assertExternalIdFree(tx, input.externalId)
  const now = ctx.clock.now()
  const userId = newId('user')
  const emailRows = input.emails.map((e) => ({
    id: newId('emailAddress'),
    userId,
    emailAddress: e.address,
    verified: true,
    verificationStrategy: e.strategy,
    createdAt: now,
    updatedAt: now,
  }))
  const phoneRows = input.phones.map((p) => ({
    id: newId('phoneNumber'),
    userId,
    phoneNumber: p.number,
    verified: true,
    verificationStrategy: p.strategy,
    reservedForSecondFactor: false,
    defaultSecondFactor: false,
    createdAt: now,
    updatedAt: now,
  }))
  tx.insert(users)
    .values({
      id: userId,
      externalId: input.externalId,
      username: input.username,
      firstName: input.firstName,
      lastName: input.lastName,
      passwordDigest: input.passwordDigest,
      passwordUpdatedAt: input.passwordDigest ? now : null,
      publicMetadata: input.publicMetadata,
      privateMetadata: input.privateMetadata,
      unsafeMetadata: input.unsafeMetadata,
      primaryEmailAddressId: emailRows[0]?.id ?? null,
      primaryPhoneNumberId: phoneRows[0]?.id ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .run()
  if (emailRows.length) tx.insert(emailAddresses).values(emailRows).run()
  if (phoneRows.length) tx.insert(phoneNumbers).values(phoneRows).run()
  const resource = toUserResource(ctx, loadUser(tx, userId)!)
  emit(tx, ctx, 'user.created', resource)
  return resource
}

/**
 * Applies `change` to an existing user inside one transaction, bumps updated_at and emits
 * user.updated with the result.
 */
export function changeUser(
  ctx: EnvContext,
  id: string,
  change: (tx: Tx, agg: UserAggregate, now: number) => Partial<UserRow>,
): UserResource {
  if (!isId('user', id)) throw notFound('user')
  return withTx(ctx, (tx) => changeUserIn(tx, ctx, id, change))
}

/** `changeUser` in the caller's transaction. */
export function changeUserIn(
  tx: Tx,
  ctx: EnvContext,
  id: string,
  change: (tx: Tx, agg: UserAggregate, now: number) => Partial<UserRow>,
): UserResource {
  const now = ctx.clock.now()
  const agg = isId('user', id) ? loadUser(tx, id) : null
  assertThat(agg, () => notFound('user'))
  const set = change(tx, agg, now)
  tx.update(users)
    .set({ ...set, updatedAt: now })
    .where(eq(users.id, id))
    .run()
  const resource = toUserResource(ctx, loadUser(tx, id)!)
  emit(tx, ctx, 'user.updated', resource)
  return resource
}

/**
 * `alongside` runs in the update's transaction (the account flow signs the user out there when
 * the request asks for it).
 */
export async function updateUser(
  ctx: EnvContext,
  id: string,
  input: UpdateUserBody,
  alongside?: (tx: Tx) => void,
): Promise<UserResource> {
  const settings = ctx.settings()
  if (!findUser(ctx, id)) throw notFound('user')
  const username =
    input.username === undefined
      ? undefined
      : input.username === null
        ? null
        : normalizeUsername(input.username, settings)
  if (username && !settings.identifiers.username.enabled) throw disabledIdentifier('username')
  if (username === null && settings.identifiers.username.required) {
    throw formError(
      'form_param_nil',
      'username',
      'cannot be removed',
      'username is required on this instance.',
    )
  }
  for (const m of ['public_metadata', 'private_metadata', 'unsafe_metadata'] as const)
    if (input[m]) checkMetadata(m, input[m])
  const digest = input.password !== undefined ? await passwordDigestFor(ctx, input) : undefined

  return changeUser(ctx, id, (tx, { emails, phones }, now) => {
    alongside?.(tx)
    const set: Partial<UserRow> = {}
    if (username !== undefined) {
      if (username !== null) assertUsernameFree(tx, username, id)
      set.username = username
    }
    if (input.external_id !== undefined) {
      if (input.external_id !== null) assertExternalIdFree(tx, input.external_id, id)
      set.externalId = input.external_id
    }
    if (input.first_name !== undefined) set.firstName = input.first_name
    if (input.last_name !== undefined) set.lastName = input.last_name
    if (digest) {
      set.passwordDigest = digest
      set.passwordUpdatedAt = now
    }
    Object.assign(set, primaryChanges({ emails, phones }, input, 'operator'))
    if (input.public_metadata) set.publicMetadata = input.public_metadata
    if (input.private_metadata) set.privateMetadata = input.private_metadata
    if (input.unsafe_metadata) set.unsafeMetadata = input.unsafe_metadata
    return set
  })
}

export function mergeUserMetadata(ctx: EnvContext, id: string, input: MetadataBody): UserResource {
  return changeUser(ctx, id, (_tx, { user }) => mergeMetadataPatch(user, input))
}

/**
 * Deletes the user and its identifiers (and, by foreign key, its second factors) in the caller's
 * transaction. What else goes with a user (sessions, memberships) is the account flow's cascade.
 */
export function deleteUserRow(tx: Tx, ctx: EnvContext, id: string) {
  const user = isId('user', id)
    ? tx.select({ id: users.id, externalId: users.externalId }).from(users).where(eq(users.id, id)).get()
    : undefined
  assertThat(user, () => notFound('user'))
  tx.delete(users).where(eq(users.id, id)).run()
  const deleted = { object: 'user' as const, id, deleted: true as const }
  emit(tx, ctx, 'user.deleted', { ...deleted, external_id: user.externalId })
  return deleted
}

export const unbanUser = (ctx: EnvContext, id: string) => changeUser(ctx, id, () => ({ banned: false }))

export const unlockUser = (ctx: EnvContext, id: string) =>
  changeUser(ctx, id, () => ({ lockedAt: null, lockedUntil: null, failedVerificationAttempts: 0 }))

export async function verifyPassword(ctx: EnvContext, id: string, password: string) {
  const found = findUser(ctx, id)
  assertThat(found, () => notFound('user'))
  const digest = found.user.passwordDigest
  if (!digest) {
    throw new AppError(400, [
      { code: 'no_password_set', message: 'no password set', long_message: 'This user has no password.' },
    ])
  }
  if (!(await ctx.passwords.verify(password, digest))) {
    throw formError('incorrect_password', 'password', 'is incorrect', 'The password is incorrect.')
  }
  return { verified: true }
}

const PRIMARY_MESSAGES = {
  operator: {
    email: 'The primary email address must be a verified address of this user.',
    phone: 'The primary phone number must be a verified number of this user.',
  },
  self: {
    email: 'Only a verified address of yours can be primary.',
    phone: 'Only a verified number of yours can be primary.',
  },
} as const

/**
 * A new primary email address or phone number must be one of the user's verified ones; `who`
 * picks the wording (an operator's request on BAPI, or the user's own).
 */
export function primaryChanges(
  user: Pick<UserAggregate, 'emails' | 'phones'>,
  input: { primary_email_address_id?: string; primary_phone_number_id?: string },
  who: keyof typeof PRIMARY_MESSAGES,
): Partial<UserRow> {
  const set: Partial<UserRow> = {}
  if (input.primary_email_address_id !== undefined) {
    if (!user.emails.find((e) => e.id === input.primary_email_address_id)?.verified)
      throw formError(
        'form_param_value_invalid',
        'primary_email_address_id',
        'is invalid',
        PRIMARY_MESSAGES[who].email,
      )
    set.primaryEmailAddressId = input.primary_email_address_id
  }
  if (input.primary_phone_number_id !== undefined) {
    if (!user.phones.find((p) => p.id === input.primary_phone_number_id)?.verified)
      throw formError(
        'form_param_value_invalid',
        'primary_phone_number_id',
        'is invalid',
        PRIMARY_MESSAGES[who].phone,
      )
    set.primaryPhoneNumberId = input.primary_phone_number_id
  }
  return set
}

/** Emits user.updated for a change another capability made to the user (its second factors). */
export function emitUserUpdated(tx: Tx, ctx: EnvContext, userId: string) {
  const agg = loadUser(tx, userId)
  if (agg) emit(tx, ctx, 'user.updated', toUserResource(ctx, agg))
}

/** Every session token checks this (a raw prepared statement: the refresh hot path). */
export function isBannedOrGone(ctx: EnvContext, userId: string): boolean {
  const row = ctx
    .prepared('users.banned', () =>
      ctx.client.query<{ banned: number }, [string]>('select banned from users where id = ?'),
    )
    .get(userId)
  return !row || row.banned === 1
}

export const userExists = (db: Db, id: string): boolean =>
  isId('user', id) && !!db.select({ id: users.id }).from(users).where(eq(users.id, id)).get()

/** Name parts for messages sent on a user's behalf (an inviter's name). */
export const userNames = (db: Db, id: string) =>
  db
    .select({ id: users.id, firstName: users.firstName, lastName: users.lastName })
    .from(users)
    .where(eq(users.id, id))
    .get() ?? null

/** A new password (already hashed, outside any transaction) in the caller's transaction. */
export function setPasswordDigest(tx: Tx, ctx: EnvContext, userId: string, digest: string) {
  const now = ctx.clock.now()
  tx.update(users)
    .set({ passwordDigest: digest, passwordUpdatedAt: now, updatedAt: now })
    .where(eq(users.id, userId))
    .run()
}
