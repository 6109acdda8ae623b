import type { Static, TObject, TSchema } from '@sinclair/typebox'
import { type AnyElysia, t } from 'elysia'
import type { ClientActor } from '../../domain/clients/service'
import { Envelope } from '../../flows/client/model'
import type { EnvContext } from '../../tenancy/context'
import { envelope, resolveActor } from '../fapi/actor'
import { capabilityRoutes } from './routes'

type Params = Record<string, string>

interface Handlers<Issue extends TSchema, Answer extends TSchema> {
  issue(env: EnvContext, actor: ClientActor | null, params: Params, body: Static<Issue>): unknown
  answer(
    env: EnvContext,
    actor: ClientActor | null,
    params: Params,
    cid: string,
    body: Static<Answer>,
  ): unknown
  /** Polling (a link opened elsewhere, a DNS record); absent where the parent has no GET. */
  get?(env: EnvContext, actor: ClientActor | null, params: Params, cid: string): unknown
}

/**
 * The seed's challenge sub-resource of a parent (a sign-in, a sign-up, an email address or
 * phone number, a session's step-up, an organization domain): `POST {parent}/challenges`,
 * `POST {parent}/challenges/{cid}/answer` and `GET {parent}/challenges/{cid}`, declared once.
 * On the Frontend API the answers carry the client envelope.
 */
export function challengeRoutes<Issue extends TSchema, Answer extends TSchema>(
  spec: {
    name: string
    /** The parent's path, with its params (`/v1/client/sign-ins/:id`). */
    parent: string
    params: TObject
    surface: 'fapi' | 'bapi'
    tags: string[]
    issueBody: Issue
    answerBody: Answer
    /** The challenge as issue and get answer it. */
    challenge: TSchema
    /** What an answer returns: the updated parent. */
    answered: TSchema
    summaries: { issue: string; answer: string; get?: string }
  } & Handlers<Issue, Answer>,
): AnyElysia {
  const fapi = spec.surface === 'fapi'
  const wrap = (schema: TSchema) => (fapi ? Envelope(schema) : schema)
  const present = (env: EnvContext, actor: ClientActor | null, value: unknown) =>
    fapi && actor ? envelope(env, actor, value) : value
  const withCid = t.Composite([spec.params, t.Object({ cid: t.String({ maxLength: 64 }) })])
  // Only the Frontend API has a calling device.
  const base = capabilityRoutes(spec.name).resolve(({ request }) =>
    fapi ? resolveActor(request) : { actor: null as ClientActor | null },
  )
  const routes = base
    .post(
      `${spec.parent}/challenges`,
      ({ env, actor, params, body }) =>
        present(env, actor, spec.issue(env, actor, params as Params, body as Static<Issue>)),
      {
        params: spec.params,
        body: spec.issueBody,
        response: { 200: wrap(spec.challenge) },
        detail: { summary: spec.summaries.issue, tags: spec.tags },
      },
    )
    .post(
      `${spec.parent}/challenges/:cid/answer`,
      ({ env, actor, params, body }) =>
        present(
          env,
          actor,
          spec.answer(env, actor, params as Params, (params as Params).cid!, (body ?? {}) as Static<Answer>),
        ),
      {
        params: withCid,
        body: t.Optional(spec.answerBody),
        response: { 200: wrap(spec.answered) },
        detail: { summary: spec.summaries.answer, tags: spec.tags },
      },
    )
  const get = spec.get
  if (!get || !spec.summaries.get) return routes
  return routes.get(
    `${spec.parent}/challenges/:cid`,
    ({ env, actor, params }) =>
      present(env, actor, get(env, actor, params as Params, (params as Params).cid!)),
    {
      params: withCid,
      response: { 200: wrap(spec.challenge) },
      detail: { summary: spec.summaries.get, tags: spec.tags },
    },
  )
}
