import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { compileClaims, ShortcodeError } from '../../src/domain/jwt-templates/shortcodes'
import { checkMetadata, deepMerge, METADATA_MAX_DEPTH } from '../../src/domain/users/metadata'
import { AppError } from '../../src/lib/errors'
import { DOCUMENT_MAX_DEPTH } from '../../src/lib/json-limits'
import { bapiJson, createUser, expectError, ok, PASSWORD, row } from '../flows/support'
import { browser } from '../helpers/browser'
import { createHarness, type Harness } from '../helpers/harness'

// Metadata and JWT template claims nest at most DOCUMENT_MAX_DEPTH levels: deeper ones are a 422
// naming the parameter, also when the body itself is within the dispatcher's bounds (64 levels),
// and the walkers over them never recurse past that.

/** `{"a":{"a":…{}}}`, `depth` objects deep. */
function nestedObject(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  let node = root
  for (let i = 1; i < depth; i++) {
    const next: Record<string, unknown> = {}
    node.a = next
    node = next
  }
  return root
}

describe('the walkers, on values deeper than any stack', () => {
  const abyss = nestedObject(100_000)

  it('deepMerge merges without recursion', () => {
    const merged = deepMerge({ keep: 1, a: { drop: true } }, abyss)
    expect(merged.keep).toBe(1)
    let node = merged as Record<string, any>
    let depth = 1
    while (node.a) {
      node = node.a
      depth++
    }
    expect(depth).toBe(100_000)
    expect((merged.a as Record<string, unknown>).drop).toBe(true)
  })

  it('deepMerge keeps its rules: objects merge, null deletes, anything else replaces', () => {
    expect(
      deepMerge(
        { a: { b: 1, c: 2 }, d: [1], e: 'x', f: { g: 1 } },
        { a: { c: null, h: { i: null, j: 1 } }, d: [2], e: { k: 1 }, f: null },
      ),
    ).toEqual({ a: { b: 1, h: { j: 1 } }, d: [2], e: { k: 1 } })
  })

  it('checkMetadata refuses it with a 422, not a stack overflow', () => {
    let caught: unknown
    try {
      checkMetadata('public_metadata', abyss)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(AppError)
    expect((caught as AppError).status).toBe(422)
    expect((caught as AppError).items[0]!.meta).toEqual({ param_name: 'public_metadata' })
    expect(checkMetadata('m', nestedObject(METADATA_MAX_DEPTH))).toBeDefined()
    expect(() => checkMetadata('m', nestedObject(METADATA_MAX_DEPTH + 1))).toThrow(AppError)
  })

  it('compileClaims refuses it with a ShortcodeError, not a stack overflow', () => {
    expect(() => compileClaims(abyss)).toThrow(ShortcodeError)
    expect(() => compileClaims(nestedObject(DOCUMENT_MAX_DEPTH))).not.toThrow()
    expect(() => compileClaims({ a: [nestedObject(DOCUMENT_MAX_DEPTH - 1)] })).toThrow(ShortcodeError)
  })
})

describe('documents deeper than the bound, in bodies within the dispatcher bounds', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
    ok(await bapiJson(h, 'PATCH', '/v1/instance', { organizations: { enabled: true } }))
  })
  afterAll(() => h.close())

  const tooDeep = nestedObject(DOCUMENT_MAX_DEPTH + 8)
  const deepEnough = nestedObject(DOCUMENT_MAX_DEPTH)

  it('organization metadata: 422 past the bound, accepted at it', async () => {
    expectError(
      await bapiJson(h, 'POST', '/v1/organizations', { name: 'Deep', public_metadata: tooDeep }),
      422,
      'form_param_format_invalid',
      'public_metadata',
    )
    expect(ok(await bapiJson(h, 'GET', '/v1/organizations')).data).toEqual([])
    ok(await bapiJson(h, 'POST', '/v1/organizations', { name: 'Deep', private_metadata: deepEnough }))
  })

  it('user metadata: on create, and on a merge, which leaves the user as it was', async () => {
    expectError(
      await bapiJson(h, 'POST', '/v1/users', {
        email_address: ['deep@example.com'],
        password: PASSWORD,
        unsafe_metadata: tooDeep,
      }),
      422,
      'form_param_format_invalid',
      'unsafe_metadata',
    )
    const user = await createUser(h, { public_metadata: { plan: 'pro' } })
    expectError(
      await bapiJson(h, 'PATCH', `/v1/users/${user.id}/metadata`, { public_metadata: tooDeep }),
      422,
      'form_param_format_invalid',
      'public_metadata',
    )
    expect(ok(await bapiJson(h, 'GET', `/v1/users/${user.id}`)).public_metadata).toEqual({ plan: 'pro' })
    ok(await bapiJson(h, 'PATCH', `/v1/users/${user.id}/metadata`, { public_metadata: { a: deepEnough.a } }))
  })

  it('sign-up unsafe_metadata (FAPI)', async () => {
    const b = browser(h)
    expectError(
      await b.json('POST', '/v1/client/sign-ups', { unsafe_metadata: tooDeep }),
      422,
      'form_param_format_invalid',
      'unsafe_metadata',
    )
    expect(row<{ n: number }>(h, 'SELECT count(*) AS n FROM sign_ups').n).toBe(0)
  })

  it('JWT template claims', async () => {
    const r = await bapiJson(h, 'POST', '/v1/jwt-templates', { name: 'deep', claims: { x: tooDeep } })
    expectError(r, 422, 'form_param_format_invalid', 'claims')
    expect(r.body.errors[0].long_message).toContain(`${DOCUMENT_MAX_DEPTH} levels`)
    expect(ok(await bapiJson(h, 'GET', '/v1/jwt-templates')).data).toEqual([])
    ok(
      await bapiJson(h, 'POST', '/v1/jwt-templates', {
        name: 'deep',
        claims: { x: nestedObject(DOCUMENT_MAX_DEPTH - 1) },
      }),
    )
  })

  it('invitation metadata, which becomes the user’s: the same depth and size bounds', async () => {
    expectError(
      await bapiJson(h, 'POST', '/v1/invitations', {
        email_address: 'inv1@example.com',
        public_metadata: tooDeep,
      }),
      422,
      'form_param_format_invalid',
      'public_metadata',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/invitations', {
        email_address: 'inv2@example.com',
        public_metadata: { big: 'x'.repeat(9000) },
      }),
      422,
      'form_param_format_invalid',
      'public_metadata',
    )
    expectError(
      await bapiJson(h, 'POST', '/v1/invitations/bulk', [
        { email_address: 'inv3@example.com' },
        { email_address: 'inv4@example.com', public_metadata: tooDeep },
      ]),
      422,
      'form_param_format_invalid',
      '1.public_metadata',
    )
    expect(ok(await bapiJson(h, 'GET', '/v1/invitations')).data).toEqual([])
  })
})
