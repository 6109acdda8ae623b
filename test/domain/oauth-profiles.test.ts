import { describe, expect, it } from 'bun:test'
import { presetOf } from '../../src/domain/oauth-providers/presets'
import {
  normalizeProfile,
  primaryEmail,
  readPath,
  UpstreamError,
} from '../../src/domain/oauth-providers/upstream'

/**
 * Provider-specific profile shapes the loopback IdP cannot produce, through the presets' mappings:
 * payloads shaped as each provider documents them (shared/reference/social-providers.md §2–3).
 * The point is the email's verification: only what the provider asserts counts.
 */

const preset = (id: string) => presetOf(id)!

describe('profile normalisation per preset', () => {
  it('GitHub: numeric id, the verified primary address from /user/emails, not the public one', () => {
    const user = {
      id: 583231,
      login: 'octocat',
      name: 'The Octocat',
      email: 'public@example.com',
      avatar_url: 'https://avatars.githubusercontent.com/u/583231',
    }
    const p = normalizeProfile(preset('github').mapping, user)
    expect(p).toMatchObject({
      providerUserId: '583231',
      username: 'octocat',
      firstName: 'The',
      lastName: 'Octocat',
      email: null,
    })
    const emails = [
      { email: 'old@example.com', primary: false, verified: true },
      { email: 'octocat@github.com', primary: true, verified: true },
    ]
    expect(primaryEmail(preset('github').emails!, emails)).toEqual({
      email: 'octocat@github.com',
      verified: true,
    })
    expect(
      primaryEmail(preset('github').emails!, [{ email: 'x@example.com', primary: true, verified: false }]),
    ).toEqual({
      email: 'x@example.com',
      verified: false,
    })
  })

  it('Bitbucket: uuid and is_confirmed under values', () => {
    const p = normalizeProfile(preset('bitbucket').mapping, {
      uuid: '{b0e3}',
      username: 'bb',
      display_name: 'Bit Bucket',
    })
    expect(p.providerUserId).toBe('{b0e3}')
    expect(
      primaryEmail(preset('bitbucket').emails!, {
        values: [{ email: 'bb@example.com', is_primary: true, is_confirmed: true }],
      }),
    ).toEqual({ email: 'bb@example.com', verified: true })
  })

  it('Apple: email_verified may be the string "true"; the name comes from the one-time user field', () => {
    const p = normalizeProfile(preset('apple').mapping, {
      sub: '001234.abcd',
      email: 'relay@privaterelay.appleid.com',
      email_verified: 'true',
      user: { name: { firstName: 'Tim', lastName: 'Apple' } },
    })
    expect(p).toMatchObject({
      providerUserId: '001234.abcd',
      emailVerified: true,
      firstName: 'Tim',
      lastName: 'Apple',
    })
    expect(
      normalizeProfile(preset('apple').mapping, { sub: 'a', email: 'a@b.co', email_verified: 'false' })
        .emailVerified,
    ).toBe(false)
  })

  it('Facebook, Spotify, Notion: never verified', () => {
    expect(
      normalizeProfile(preset('facebook').mapping, { id: '1', email: 'f@b.co', name: 'F B' }).emailVerified,
    ).toBe(false)
    expect(normalizeProfile(preset('spotify').mapping, { id: 's', email: 's@p.co' }).emailVerified).toBe(
      false,
    )
    const notion = normalizeProfile(preset('notion').mapping, {
      token: { owner: { user: { id: 'n-1', name: 'No Tion', person: { email: 'n@notion.so' } } } },
    })
    expect(notion).toMatchObject({ providerUserId: 'n-1', email: 'n@notion.so', emailVerified: false })
  })

  it('X: confirmed_email is the assertion; Discord: verified; Microsoft: xms_edov and oid', () => {
    expect(
      normalizeProfile(preset('x').mapping, {
        data: { id: '42', username: 'x', confirmed_email: 'x@x.com' },
      }),
    ).toMatchObject({ providerUserId: '42', email: 'x@x.com', emailVerified: true })
    expect(
      normalizeProfile(preset('discord').mapping, { id: 'd', email: 'd@d.co', verified: false })
        .emailVerified,
    ).toBe(false)
    const ms = preset('microsoft')
    expect(
      normalizeProfile(ms.mapping, {
        oid: 'o-1',
        sub: 'pairwise',
        email: 'm@contoso.com',
        email_verified: true,
      }),
    ).toMatchObject({
      providerUserId: 'o-1',
      emailVerified: false,
    })
    expect(
      normalizeProfile(ms.mapping, { oid: 'o-1', email: 'm@contoso.com', xms_edov: true }).emailVerified,
    ).toBe(true)
    const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47'
    expect(ms.issuerFromClaims!({ tid }, {})).toBe(`https://login.microsoftonline.com/${tid}/v2.0`)
    expect(ms.issuerFromClaims!({ tid: '../evil' }, {})).toBeNull()
  })

  it('drops what is not an email or an http(s) image, and refuses a profile without an id', () => {
    const p = normalizeProfile(
      { user_id: 'id', email: 'mail', email_verified: true, image_url: 'pic' },
      { id: 7, mail: 'not an email', pic: 'javascript:alert(1)' },
    )
    expect(p).toMatchObject({ providerUserId: '7', email: null, emailVerified: false, imageUrl: null })
    expect(() => normalizeProfile({ user_id: 'id' }, { name: 'nobody' })).toThrow(UpstreamError)
    expect(readPath({ emails: [{ value: 'a@b.co' }] }, 'emails.0.value')).toBe('a@b.co')
  })
})
