import { describe, expect, it } from 'bun:test'
import {
  compileClaims,
  renderClaims,
  type ShortcodeContext,
  ShortcodeError,
} from '../../src/domain/jwt-templates/shortcodes'

const context: ShortcodeContext = {
  user: {
    id: 'user_1',
    first_name: 'Ada',
    last_name: 'Lovelace',
    username: null,
    created_at: 1767225600,
    email_verified: true,
    public_metadata: { plan: 'pro', seats: 5, flags: { beta: true }, tags: ['a', 'b'], off: false },
    unsafe_metadata: {},
  },
  session: null,
  org: null,
  org_membership: null,
}

const render = (claims: Record<string, unknown>) => renderClaims(compileClaims(claims), context)

describe('shortcodes', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['a plain string', 'hello', 'hello'],
    ['a non-string literal', 42, 42],
    ['a whole-value string', '{{user.id}}', 'user_1'],
    ['a whole-value number keeps its type', '{{user.created_at}}', 1767225600],
    ['a whole-value boolean keeps its type', '{{user.email_verified}}', true],
    ['a whole-value object stays an object', '{{user.public_metadata.flags}}', { beta: true }],
    ['a metadata dot path', '{{user.public_metadata.plan}}', 'pro'],
    ['an array index in a path', '{{user.public_metadata.tags.1}}', 'b'],
    ['an unknown path is null', '{{user.public_metadata.nope.deeper}}', null],
    ['a missing session is null', '{{session.id}}', null],
    ['a missing org is null', '{{org.slug}}', null],
    ['spaces inside the braces', '{{ user.id }}', 'user_1'],
    ['interpolation makes a string', '{{user.first_name}} {{user.last_name}}', 'Ada Lovelace'],
    ['interpolation renders null as null', 'name: {{user.username}}', 'name: null'],
    [
      'interpolation renders numbers and objects as JSON',
      '{{user.public_metadata.seats}}/{{user.public_metadata.flags}}',
      '5/{"beta":true}',
    ],
    ['a fallback to a quoted literal', "{{user.username || 'anon'}}", 'anon'],
    ['a fallback with double quotes', '{{user.username || "anon"}}', 'anon'],
    ['the first present operand wins', "{{user.first_name || 'anon'}}", 'Ada'],
    ['false falls through', "{{user.public_metadata.off || 'on'}}", 'on'],
    ['a chain of fallbacks', '{{session.id || user.username || user.id}}', 'user_1'],
    ['a number literal fallback', '{{user.public_metadata.missing || 10}}', 10],
    ['a boolean literal fallback', '{{user.public_metadata.missing || true}}', true],
    ['the last operand when all are null', '{{session.id || user.username}}', null],
    ['a quoted literal may contain || and }}', "{{user.username || 'a||b}}'}}", 'a||b}}'],
    ['a fallback inside interpolation', "Hi {{user.username || 'friend'}}!", 'Hi friend!'],
  ]
  for (const [name, input, expected] of cases) {
    it(name, () => {
      expect(render({ c: input }).c).toEqual(expected)
    })
  }

  it('walks nested objects and arrays, leaving keys alone', () => {
    expect(
      render({
        '{{user.id}}': 'key',
        nested: { list: ['{{user.id}}', { deep: '{{user.public_metadata.seats}}' }] },
      }),
    ).toEqual({ '{{user.id}}': 'key', nested: { list: ['user_1', { deep: 5 }] } })
  })

  it('does not reach prototypes', () => {
    expect(render({ a: '{{user.constructor}}', b: '{{user.public_metadata.__proto__}}' })).toEqual({
      a: null,
      b: null,
    })
  })

  const invalid: Array<[string, string]> = [
    ['an unknown root', '{{usr.id}}'],
    ['private metadata is not a root', '{{private_metadata.x}}'],
    ['an empty shortcode', '{{}}'],
    ['an empty operand', '{{user.id || }}'],
    ['an unclosed shortcode', '{{user.id'],
    ['an unclosed literal', "{{user.id || 'x}}"],
    ['garbage', '{{user.id + 1}}'],
  ]
  for (const [name, input] of invalid) {
    it(`rejects ${name}`, () => {
      expect(() => compileClaims({ nested: { c: input } })).toThrow(ShortcodeError)
    })
  }

  it('says where the bad shortcode is', () => {
    expect(() => compileClaims({ a: [{ b: '{{nope}}' }] })).toThrow(/claims\.a\[0\]\.b/)
  })
})
