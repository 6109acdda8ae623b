// The ~10-claim access-token payload used by the micro benchmarks and the refresh mock.
export function claimsFor(sub: string, sid: string) {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: 'https://auth.example.test',
    sub,
    aud: 'api.example.test',
    iat: now,
    nbf: now,
    exp: now + 900,
    jti: crypto.randomUUID(),
    sid,
    scope: 'openid profile email offline_access',
    email: `${sub}@example.test`,
    roles: ['user', 'beta'],
  }
}
