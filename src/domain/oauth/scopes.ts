/**
 * The scopes an OAuth application may be allowed, and what each means in plain words (the
 * consent page shows these). `openid` is always allowed: it only makes the request an OpenID
 * Connect one (an id_token with `sub`), it opens no data by itself.
 */
export const SCOPE_WORDS: Readonly<Record<string, string>> = {
  openid: 'Confirm who you are',
  profile: 'See your name, username and profile picture',
  email: 'See your email address',
  public_metadata: "Read your account's public and unsafe metadata",
  private_metadata: "Read your account's private metadata",
  offline_access: 'Stay connected when you are not using it',
}

export const KNOWN_SCOPES = Object.keys(SCOPE_WORDS)
export const DEFAULT_APP_SCOPES = 'profile email'

/** Scope words in a stable order, without duplicates. */
export function parseScopes(raw: string | null | undefined): string[] {
  if (!raw) return []
  return [...new Set(raw.split(' ').filter(Boolean))]
}

export const joinScopes = (scopes: Iterable<string>) => [...new Set(scopes)].join(' ')

/** Every word of `wanted` is in `have`. */
export const covers = (have: readonly string[], wanted: readonly string[]) =>
  wanted.every((s) => have.includes(s))

/** What an app may ask for: its allow-list, plus `openid`. */
export const allowedScopes = (appScopes: string) => new Set(['openid', ...parseScopes(appScopes)])
