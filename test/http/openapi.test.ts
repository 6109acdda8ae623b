import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { createHarness, type Harness } from '../helpers/harness'

let h: Harness
beforeAll(async () => {
  h = await createHarness({ envs: [{}] })
}, 60_000)
afterAll(() => h.close())

/** Every OpenAPI document the server publishes. */
const DOCUMENTS = ['/openapi/bapi.json', '/openapi/fapi.json']
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

type Json = Record<string, any>

/** Structural validation against the OpenAPI 3.x JSON Schema; the message lists every failure. */
async function validate(doc: Json) {
  try {
    // validate() dereferences in place; hand it a copy.
    await SwaggerParser.validate(structuredClone(doc) as never)
    return ''
  } catch (e) {
    return String((e as Error).message).slice(0, 4000)
  }
}

/**
 * The rules of the OpenAPI 3 text that its JSON Schema cannot express, and that swagger-parser
 * checks only for Swagger 2.0: every `{name}` of a path is declared as a path parameter (and
 * nothing else is), parameters are unique by name and location, operationIds are unique, and an
 * object schema's `required` names properties it has.
 */
function semanticProblems(doc: Json) {
  const problems: string[] = []
  const operationIds = new Set<string>()
  const walkSchema = (schema: unknown, at: string) => {
    if (!schema || typeof schema !== 'object') return
    const s = schema as Json
    if (Array.isArray(s.required) && s.properties && !s.additionalProperties && !s.patternProperties) {
      for (const name of s.required)
        if (!(name in s.properties)) problems.push(`${at}: required "${name}" is not a property`)
    }
    for (const [k, v] of Object.entries(s)) {
      if (k === 'properties' && v && typeof v === 'object')
        for (const [p, sub] of Object.entries(v)) walkSchema(sub, `${at}/properties/${p}`)
      else if (typeof v === 'object') walkSchema(v, `${at}/${k}`)
    }
  }
  for (const [path, item] of Object.entries(doc.paths ?? {}) as Array<[string, Json]>) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
    for (const method of METHODS) {
      const op = item[method] as Json | undefined
      if (!op) continue
      const at = `${method.toUpperCase()} ${path}`
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])] as Json[]
      const seen = new Set<string>()
      for (const p of params) {
        const key = `${p.in}:${p.name}`
        if (seen.has(key)) problems.push(`${at}: parameter ${key} declared twice`)
        seen.add(key)
        if (p.in === 'path' && !templated.includes(p.name))
          problems.push(`${at}: path parameter "${p.name}" is not in the path`)
        if (p.in === 'path' && p.required !== true)
          problems.push(`${at}: path parameter "${p.name}" not required`)
        walkSchema(p.schema, `${at} parameter ${p.name}`)
      }
      for (const name of templated)
        if (!seen.has(`path:${name}`)) problems.push(`${at}: path parameter "${name}" is not declared`)
      if (op.operationId) {
        if (operationIds.has(op.operationId)) problems.push(`${at}: operationId ${op.operationId} repeated`)
        operationIds.add(op.operationId)
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}) as Array<[string, Json]>)
        walkSchema(media.schema, `${at} body ${type}`)
      for (const [status, res] of Object.entries(op.responses ?? {}) as Array<[string, Json]>)
        for (const media of Object.values(res.content ?? {}) as Json[])
          walkSchema(media.schema, `${at} ${status}`)
    }
  }
  return problems
}

const fetchDoc = async (path: string) => {
  const res = await h.request(`http://localhost:3000${path}`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/json')
  return (await res.json()) as Json
}

describe('OpenAPI documents', () => {
  for (const path of DOCUMENTS) {
    it(`${path} is a valid OpenAPI 3 document`, async () => {
      const doc = await fetchDoc(path)
      expect(doc.openapi).toMatch(/^3\.[01]\.\d+$/)
      expect(Object.keys(doc.paths).length).toBeGreaterThan(10)
      expect(await validate(doc)).toBe('')
      expect(semanticProblems(doc)).toEqual([])
    }, 60_000)
  }

  it('the checks are not a rubber stamp: broken copies are refused', async () => {
    const doc = await fetchDoc('/openapi/bapi.json')
    const noDescription = structuredClone(doc)
    delete noDescription.paths['/v1/users/{id}'].get.responses.default.description
    expect(await validate(noDescription)).toContain('description')
    const badLocation = structuredClone(doc)
    badLocation.paths['/v1/users/{id}'].get.parameters[0].in = 'body'
    expect(await validate(badLocation)).not.toBe('')
    const undeclared = structuredClone(doc)
    undeclared.paths['/v1/users/{id}'].get.parameters = []
    expect(semanticProblems(undeclared)).toEqual(['GET /v1/users/{id}: path parameter "id" is not declared'])
    const wrongRequired = structuredClone(doc)
    const user = wrongRequired.paths['/v1/users'].post.requestBody.content['application/json'].schema
    user.required = [...(user.required ?? []), 'no_such_field']
    expect(semanticProblems(wrongRequired)).toEqual([
      'POST /v1/users body application/json: required "no_such_field" is not a property',
    ])
  }, 60_000)
})

describe('/docs', () => {
  it('renders with Scalar served by this server: a selector over every document and no external host', async () => {
    const res = await h.request('http://localhost:3000/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await res.text()
    // Every URL the page names is a same-origin path.
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"|"url":"([^"]*)"/g)].map((m) => m[1] ?? m[2]!)
    expect(urls).toEqual(['/openapi/bapi.json', '/openapi/fapi.json', '/docs/scalar.js', ...DOCUMENTS])
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9.-]+\.[a-z]{2,}/i)
    const config = JSON.parse(html.match(/Scalar\.createApiReference\('#app', (.*)\)<\/script>/)![1]!)
    expect(config.sources.map((s: { url: string }) => s.url)).toEqual(DOCUMENTS)
    expect(config).toMatchObject({ withDefaultFonts: false, telemetry: false })
  }, 60_000)

  it('serves the standalone bundle from node_modules, byte for byte, on any host', async () => {
    const file = Bun.file(
      new URL('../../node_modules/@scalar/api-reference/dist/browser/standalone.js', import.meta.url)
        .pathname,
    )
    for (const host of ['localhost:3000', h.env.host]) {
      const res = await h.request(`https://${host}/docs/scalar.js`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      const served = new Uint8Array(await res.arrayBuffer())
      expect(served.length).toBe(file.size)
      expect(Bun.hash(served)).toBe(Bun.hash(await file.arrayBuffer()))
    }
    expect((await h.request('http://localhost:3000/docs/other.js')).status).toBe(404)
    expect((await h.request('http://localhost:3000/docs/scalar.js', { method: 'POST' })).status).toBe(404)
  }, 60_000)
})
