import { describe, expect, it } from 'bun:test'
import { isExcess, jsonDepthExceeds, measureJsonText } from '../../src/lib/json-limits'

const roomy = { maxDepth: 1000, maxValues: 1_000_000 }

describe('measureJsonText', () => {
  it('counts nesting and values (the root, array items, object members) as a parse would', () => {
    for (const [text, depth, values] of [
      ['1', 0, 1],
      ['"s"', 0, 1],
      ['[]', 1, 1],
      ['{ }', 1, 1],
      ['[1,2]', 1, 3],
      ['[[],[ ]]', 2, 3],
      ['{"a":1,"b":[]}', 2, 3],
      [' { "k" : [ 1 , 2 , { } ] } ', 3, 5],
    ] as const) {
      expect(measureJsonText(text, roomy)).toEqual({ depth, values })
    }
  })

  it('skips strings whole: brackets, commas and escaped quotes inside them do not count', () => {
    expect(measureJsonText('{"a,[{":"\\"],[","b":{"c":[1,[2,{}]]}}', roomy)).toEqual({ depth: 5, values: 8 })
    expect(measureJsonText('[ "a\\\\\\"]" , 3 ]', roomy)).toEqual({ depth: 1, values: 3 })
    expect(measureJsonText('["\\\\", "[[[["]', roomy)).toEqual({ depth: 1, values: 3 })
  })

  it('stops at the first limit passed, without reading the rest', () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000)
    expect(measureJsonText(deep, { maxDepth: 64, maxValues: 10_000 })).toEqual({ limit: 'depth', max: 64 })
    expect(measureJsonText(deep, { maxDepth: 64, maxValues: 10 })).toEqual({ limit: 'values', max: 10 })
    expect(measureJsonText('[[[]]]', { maxDepth: 3, maxValues: 10 })).toEqual({ depth: 3, values: 3 })
    expect(measureJsonText('[[[[]]]]', { maxDepth: 3, maxValues: 10 })).toEqual({ limit: 'depth', max: 3 })
    const wide = `[${Array(1000).fill('0').join(',')}]`
    expect(measureJsonText(wide, { maxDepth: 3, maxValues: 1001 })).toEqual({ depth: 1, values: 1001 })
    expect(measureJsonText(wide, { maxDepth: 3, maxValues: 1000 })).toEqual({ limit: 'values', max: 1000 })
    expect(isExcess(measureJsonText(wide, { maxDepth: 3, maxValues: 1000 }))).toBe(true)
  })

  it('leaves broken JSON to the parser', () => {
    expect(isExcess(measureJsonText('{"a": [1, 2', roomy))).toBe(false)
    expect(isExcess(measureJsonText('"unterminated', roomy))).toBe(false)
    expect(isExcess(measureJsonText(']]]]', roomy))).toBe(false)
  })
})

describe('jsonDepthExceeds', () => {
  it('measures nesting like measureJsonText', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false)
    expect(jsonDepthExceeds({}, 0)).toBe(true)
    expect(jsonDepthExceeds({ a: [1, { b: [] }] }, 4)).toBe(false)
    expect(jsonDepthExceeds({ a: [1, { b: [] }] }, 3)).toBe(true)
  })

  it('walks a value far deeper than the stack allows without overflowing', () => {
    const root: Record<string, unknown> = {}
    let node = root
    for (let i = 0; i < 200_000; i++) {
      const next: Record<string, unknown> = {}
      node.a = [next]
      node = next
    }
    expect(jsonDepthExceeds(root, 32)).toBe(true)
    expect(jsonDepthExceeds(root, 1_000_000)).toBe(false)
  })
})
