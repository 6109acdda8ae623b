import { type ClerkClient, createClerkClient } from '@clerk/backend'
import type { Server } from 'bun'
import { browser } from '../../helpers/browser'
import { createHarness, type EnvSeed, type Harness, type TestEnv } from '../../helpers/harness'

/**
 * The server on a loopback port, driven by Clerk's own Backend SDK (`@clerk/backend`, pinned):
 * the SDK builds every request and deserialises every answer, so a wire difference its classes
 * cannot read fails here. The clock is fixed at the real time, because the SDK's token checks
 * read the real one.
 */
export interface SdkWorld {
  h: Harness
  server: Server<undefined>
  apiUrl: string
  clerk: ClerkClient
  /** A client for another env of the same server. */
  clerkFor(env: TestEnv): ClerkClient
  close(): Promise<void>
}

export async function sdkWorld(envs: EnvSeed[] = [{}]): Promise<SdkWorld> {
  const h = await createHarness({ envs, now: new Date().toISOString() })
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, srv) => h.rt.server.handle(request, srv.requestIP(request)?.address ?? null),
  })
  const apiUrl = `http://127.0.0.1:${server.port}`
  const clerkFor = (env: TestEnv) => createClerkClient({ secretKey: env.secretKey, apiUrl })
  return {
    h,
    server,
    apiUrl,
    clerk: clerkFor(h.env),
    clerkFor,
    async close() {
      await server.stop(true)
      h.close()
    },
  }
}

export const PASSWORD = 'correct horse battery'
let seq = 0
export const uniqueEmail = (tag = 'sdk') => `${tag}${++seq}-${process.pid}@example.com`

/** A browser on the env's frontend host that signs in with a password; answers the session id. */
export async function browserSignIn(h: Harness, identifier: string, env: TestEnv = h.env) {
  const b = browser(h, env)
  const r = await b.json('POST', '/v1/client/sign-ins', {
    identifier,
    password: PASSWORD,
    strategy: 'password',
  })
  if (r.status !== 200 || r.body.response.status !== 'complete') {
    throw new Error(`sign-in failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`)
  }
  return { b, sid: r.body.response.created_session_id as string, clientId: r.body.client.id as string }
}
