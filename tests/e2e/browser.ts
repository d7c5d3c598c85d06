// Debian's Chromium driven by playwright-core (no browser is ever downloaded), and the built
// dashboard. Screenshots go to artifacts/e2e/ (gitignored), kept as the run's evidence.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { DASHBOARD_DIR } from '../../cli/stack.ts'

export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'artifacts', 'e2e')
const SOURCE_DIR = join(import.meta.dirname, '..', '..', 'dashboard')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Build the dashboard if this checkout has no build yet, or its sources changed since (the API serves dashboard/dist). */
export function ensureDashboardBuilt(): void {
  const index = join(DASHBOARD_DIR, 'index.html')
  if (existsSync(index) && newestSource(SOURCE_DIR) <= statSync(index).mtimeMs) return
  execFileSync(process.execPath, [join('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
    // vitest runs with NODE_ENV=test, which would make a development build (Svelte's dev runtime: slower, and not what people are served).
    env: { ...process.env, NODE_ENV: 'production' },
  })
}

/** The newest modification time among the dashboard's sources (its build output left out). */
function newestSource(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue
    const p = join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs)
  }
  return newest
}

export interface Browser {
  context: BrowserContext
  page: Page
  close(): Promise<void>
}

/** A fresh Chromium profile each time: nothing cached or remembered between runs. */
export async function openBrowser(viewport = { width: 1366, height: 800 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`)
  const profile = mkdtempSync(join(tmpdir(), 'kerbside-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    // A council officer's browser in the UK: dates, numbers and the Accept-Language as they would be.
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    args: ['--lang=en-GB', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context, page,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`) })
}

/** Sign in through the form with an API key (the kiosk way), as a person would. */
export async function signIn(page: Page, baseUrl: string, key: string, hash = '#/map'): Promise<void> {
  await page.goto(`${baseUrl}/${hash}`)
  // The form opens for a username and password; a refused key leaves it on the key.
  const form = page.getByTestId('sign-in-form')
  if ((await form.getAttribute('data-mode')) !== 'key') await page.getByTestId('sign-in-switch').click()
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}
