import { monotonicFactory } from 'ulid'

/**
 * The one registry of id prefixes. Every persisted object gets `<prefix>_<monotonic ULID>`;
 * path parameters are validated against these patterns before any query runs.
 */
export const PREFIXES = {
  environment: 'env',
  secretKey: 'sk',
  user: 'user',
  emailAddress: 'idn',
  phoneNumber: 'idn',
  event: 'evt',
  session: 'sess',
  client: 'client',
  signIn: 'sia',
  signUp: 'sua',
  challenge: 'chl',
  organization: 'org',
  membership: 'orgmem',
  invitation: 'orginv',
  domain: 'orgdmn',
  membershipRequest: 'orgreq',
  role: 'role',
  permission: 'perm',
  jwtTemplate: 'jtmp',
  oauthApplication: 'oa',
  oauthGrant: 'oag',
  oauthCode: 'oac',
  oauthToken: 'oatk',
  enterpriseConnection: 'ec',
  enterpriseAccount: 'entacc',
  externalAccount: 'extacc',
  oauthProvider: 'oap',
  scimToken: 'scimtok',
  webhookEndpoint: 'whe',
  webhookDelivery: 'whd',
  webhookAttempt: 'wha',
  message: 'msg',
  signingKey: 'key',
  backupCode: 'bcode',
  reverification: 'sver',
  signInToken: 'sit',
  instanceInvitation: 'inv',
  devBrowser: 'dvb',
} as const

export type IdKind = keyof typeof PREFIXES
export type Prefix = (typeof PREFIXES)[IdKind]

const ulid = monotonicFactory()

/** ULIDs are strictly increasing within one process, so (created_at, id) orders stably. */
export function newId<K extends IdKind>(kind: K): `${(typeof PREFIXES)[K]}_${string}` {
  return `${PREFIXES[kind]}_${ulid()}` as `${(typeof PREFIXES)[K]}_${string}`
}

export const idPattern = (kind: IdKind) => `^${PREFIXES[kind]}_[0-9A-HJKMNP-TV-Z]{26}$`

const compiled = new Map<IdKind, RegExp>()
export function isId(kind: IdKind, value: string): boolean {
  let re = compiled.get(kind)
  if (!re) {
    re = new RegExp(idPattern(kind))
    compiled.set(kind, re)
  }
  return re.test(value)
}
