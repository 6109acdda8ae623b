import { afterAll, beforeAll, expect, it } from 'bun:test'
import { type Browser, chromium } from 'playwright-core'
import { createHarness, type Harness } from '../helpers/harness'

/**
 * /docs in a real browser (the system's chromium, driven by playwright-core) with every request
 * to another origin refused: Scalar renders both documents from what this server serves alone.
 */
const CHROMIUM = process.env.AUTHN_CHROMIUM ?? '/usr/bin/chromium'

let h: Harness
let server: ReturnType<typeof Bun.serve>
let browser: Browser

beforeAll(async () => {
  h = await createHarness({ envs: [{}] })
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req) => {
      const url = new URL(req.url)
      return h.request(`http://localhost:3000${url.pathname}${url.search}`, { method: req.method })
    },
  })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop(true)
  h?.close()
})

it('renders the reference offline: the viewer and both documents come from this server', async () => {
  const origin = `http://127.0.0.1:${server.port}`
  const page = await browser.newPage()
  const foreign: string[] = []
  const loaded: string[] = []
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) {
      loaded.push(url.slice(origin.length))
      return route.continue()
    }
    foreign.push(url)
    return route.abort()
  })
  await page.goto(`${origin}/docs`)
  await page.getByText('authn Backend API').first().waitFor({ timeout: 60_000 })
  await page.getByText('Create a user').first().waitFor({ timeout: 30_000 })
  expect(loaded).toContain('/docs/scalar.js')
  expect(loaded).toContain('/openapi/bapi.json')
  // The selector switches to the other document, also fetched from here.
  await page.getByText('Backend API', { exact: true }).first().click()
  await page.getByText('Frontend API', { exact: true }).first().click()
  await page.getByText('authn Frontend API').first().waitFor({ timeout: 60_000 })
  expect(loaded).toContain('/openapi/fapi.json')
  expect(foreign).toEqual([])
  await page.close()
}, 180_000)
