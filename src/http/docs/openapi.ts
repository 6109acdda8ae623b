import type { AnyElysia } from 'elysia'
import type { PathAlias } from '../aliases'

interface RouteHooks {
  body?: unknown
  query?: unknown
  params?: unknown
  response?: unknown
  detail?: { summary?: string; description?: string; tags?: string[] }
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] }

/** TypeBox schemas are JSON Schema plus symbol keys; a JSON round trip keeps only the former. */
const plain = (schema: unknown): JsonSchema => JSON.parse(JSON.stringify(schema)) as JsonSchema

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          long_message: { type: 'string' },
          meta: { type: 'object' },
        },
        required: ['code', 'message'],
      },
    },
    trace_id: { type: 'string' },
    clerk_trace_id: { type: 'string', description: 'The trace id again, under the name Clerk SDKs read' },
  },
  required: ['errors', 'trace_id'],
}

function parameters(schema: unknown, location: 'query' | 'path') {
  if (!schema) return []
  const s = plain(schema)
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: location,
    required: location === 'path' || (s.required ?? []).includes(name),
    schema: prop,
    ...(prop.type === 'array' ? { style: 'form', explode: true } : {}),
  }))
}

function responses(response: unknown) {
  const out: Record<string, unknown> = {}
  const map =
    response && typeof response === 'object' && !('type' in response) && !('anyOf' in response)
      ? (response as Record<string, unknown>)
      : response
        ? { 200: response }
        : {}
  for (const [status, schema] of Object.entries(map)) {
    out[status] = { description: 'OK', content: { 'application/json': { schema: plain(schema) } } }
  }
  out.default = { description: 'Error', content: { 'application/json': { schema: ERROR_SCHEMA } } }
  return out
}

export interface OpenApiInfo {
  title: string
  description: string
  security?: 'secretKey'
  /** Other spellings of the routes (src/http/bapi/aliases.ts), listed on the route they stand for. */
  aliases?: readonly PathAlias[]
}

const shape = (path: string) => path.replace(/:[A-Za-z_]+/g, ':')
const openApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}')

/** `x-aliases` of one operation: the spellings (and implied query) that reach it. */
function aliasesOf(aliases: readonly PathAlias[], path: string, method: string) {
  return aliases
    .filter((a) => shape(a.to) === shape(path) && (!a.methods || a.methods.includes(method)))
    .map((a) =>
      a.query ? `${openApiPath(a.from)} (= ?${new URLSearchParams({ ...a.query })})` : openApiPath(a.from),
    )
}

/** An OpenAPI 3.1 document built from the routes' own TypeBox schemas. */
export function openApiDocument(apps: AnyElysia[], info: OpenApiInfo) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const app of apps) {
    for (const route of app.routes) {
      if (route.method === 'ALL' || route.method === 'OPTIONS') continue
      const hooks = (route.hooks ?? {}) as RouteHooks
      const path = openApiPath(route.path)
      const aliases = aliasesOf(info.aliases ?? [], route.path, route.method)
      const pathParams = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!)
      const params = hooks.params
        ? parameters(hooks.params, 'path')
        : pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
      paths[path] ??= {}
      paths[path][route.method.toLowerCase()] = {
        summary: hooks.detail?.summary,
        description: hooks.detail?.description,
        tags: hooks.detail?.tags,
        ...(aliases.length ? { 'x-aliases': aliases } : {}),
        parameters: [...params, ...parameters(hooks.query, 'query')],
        ...(hooks.body
          ? {
              requestBody: {
                required: true,
                content: {
                  'application/json': { schema: plain(hooks.body) },
                  'application/x-www-form-urlencoded': { schema: plain(hooks.body) },
                },
              },
            }
          : {}),
        responses: responses(hooks.response),
        ...(info.security ? { security: [{ [info.security]: [] }] } : {}),
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: '0.1.0', description: info.description },
    ...(info.security
      ? {
          components: {
            securitySchemes: {
              secretKey: { type: 'http', scheme: 'bearer', description: 'sk_test_… or sk_live_… secret key' },
            },
          },
        }
      : {}),
    paths,
  }
}
