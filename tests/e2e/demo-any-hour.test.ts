// `kerbside demo` at any hour of any day, as a newcomer meets it: a fresh data folder, the clock set
// (libfaketime on the demo's process) to three moments London time: the small hours of a Sunday,
// midday on a Wednesday, half an hour before midnight on a Friday. Each time the demo becomes ready
// with its history worked out, the banner's sign-in works in Chromium, every page shows its data
// (the map drawn, KPIs and the league, why missed, a household with its collections, reports, the
// rewards leaderboard, devices, refused input in quarantine; no error), its LoRaWAN bins are filled on the map, and a live lift
// (made after the demo started) reaches the map.
// Regression: at Sunday 01:14 the old demo clamped its rounds to 23:00 and no lift ever came.
// Screenshots: artifacts/e2e/demo-*.png.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ensureDashboardBuilt, openBrowser, screenshot } from './browser.ts'

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'
const MOMENTS = [
  { name: 'sunday-0115', fake: '2026-12-06 01:15:00' },
  { name: 'wednesday-1200', fake: '2026-12-09 12:00:00' },
  { name: 'friday-2330', fake: '2026-12-11 23:30:00' },
]
/** Each page, and what shows that it holds data (not only that it opened). */
const PAGES: { id: string; shows: string[] }[] = [
  { id: 'map', shows: ['canvas.city-canvas[data-drawn]', '[data-testid="map-figures"]'] },
  { id: 'performance', shows: ['[data-testid="performance"]', '[data-testid="exceptions-by-code"]', '[data-testid="league-row"]'] },
  { id: 'why-missed', shows: ['[data-testid="why-summary"]', '[data-testid="breakdown-row"]'] },
  { id: 'households/{uprn}', shows: ['[data-testid="household-summary"]', '[data-testid="collection"]'] },
  { id: 'reports', shows: ['[data-testid="report-row"]'] },
  { id: 'rewards', shows: ['[data-testid="leaderboard-row"]'] },
  { id: 'devices', shows: ['[data-testid="device-row"]'] },
  // The demo's faulty sensors (one in fifty) now and then report an impossible fill: refused, counted by reason.
  { id: 'quarantine', shows: ['[data-testid="quarantine-reason"][data-reason="schema"]', '[data-testid="quarantine-row"]'] },
]

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  })
})

interface RunningDemo { child: ChildProcess; dir: string; base: string; output: () => string; ready: Promise<void> }

async function startDemo(fake: string): Promise<RunningDemo> {
  const dir = mkdtempSync(join(tmpdir(), 'kerbside-e2e-demo-'))
  const [mqtt, ws, http] = [await freePort(), await freePort(), await freePort()]
  // December: London time is UTC, so the fake instant is London's wall clock too. '@' starts the clock there and lets it run.
  const child = spawn(process.execPath, ['cli/bin.js', 'demo', '--data-dir', dir, '--households', '400'], {
    env: { ...process.env, FAKETIME: `@${fake}`, LD_PRELOAD: LIBFAKETIME, TZ: 'UTC', MQTT_PORT: String(mqtt), MQTT_WS_PORT: String(ws), HTTP_PORT: String(http), LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { out += b.toString() })
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => { if (out.includes('Dashboard populated')) resolve() })
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it was ready:\n${out}`)))
  })
  return { child, dir, base: `http://127.0.0.1:${http}`, output: () => out, ready }
}

async function stopDemo(d: RunningDemo | undefined): Promise<void> {
  if (!d) return
  if (d.child.exitCode === null) {
    d.child.kill('SIGINT')
    await new Promise((r) => d.child.once('exit', r))
  }
  rmSync(d.dir, { recursive: true, force: true })
}

beforeAll(() => {
  ensureDashboardBuilt()
  if (!existsSync(LIBFAKETIME)) throw new Error(`libfaketime not found at ${LIBFAKETIME}: apt-get install -y faketime`)
})

describe.each(MOMENTS)('the demo started at $fake London time', ({ name, fake }) => {
  let demo: RunningDemo | undefined
  beforeAll(async () => {
    demo = await startDemo(fake)
    await demo.ready
  }, 900_000) // weeks of history on a fresh folder: a minute or two on a quiet machine, more on a busy one
  afterAll(() => stopDemo(demo), 60_000)

  test('the banner says what is happening, and its sign-in opens every page with data', async () => {
    const out = demo!.output()
    expect(out).toMatch(/crews collect every day, starting between \d\d:\d\d and \d\d:\d\d London time/)
    const [, username, password] = /Sign in +user (\S+), password (\S+)/.exec(out) ?? []
    expect(username).toBe('demo')
    const browser = await openBrowser()
    try {
      const { page } = browser
      await page.goto(`${demo!.base}/#/map`)
      await page.getByLabel('Username').fill(username!)
      await page.getByLabel('Password').fill(password!)
      await page.getByRole('button', { name: 'Sign in' }).click()
      // A household that a resident reported: it has collections, evidence and a report.
      const key = (JSON.parse(readFileSync(join(demo!.dir, 'secrets.json'), 'utf8')) as { adminKey: string }).adminKey
      const reports = (await (await fetch(`${demo!.base}/api/v1/reports?limit=1`, { headers: { authorization: `Bearer ${key}` } })).json()) as { uprn: number }[]
      expect(reports.length).toBeGreaterThan(0)
      for (const { id, shows } of PAGES) {
        await page.goto(`${demo!.base}/#/${id.replace('{uprn}', String(reports[0]!.uprn))}`)
        for (const selector of shows) await page.locator(selector).first().waitFor({ timeout: 60_000 })
        expect(await page.locator('[data-testid="status-error"]').count(), `${id}: an error`).toBe(0)
        await screenshot(page, `demo-${name}-${id.split('/')[0]}`)
      }
    } finally {
      await browser.close()
    }
  }, 600_000)

  test('its LoRaWAN bins, sent through the webhooks as The Things Stack and ChirpStack, are filled on the map', async () => {
    const [, sensors] = /LoRaWAN +(\d+) bins with LoRaWAN sensors .* through simulated The Things Stack \(\d+\) and ChirpStack \(\d+\) webhooks/.exec(demo!.output()) ?? []
    expect(Number(sensors)).toBeGreaterThan(0)
    const key = (JSON.parse(readFileSync(join(demo!.dir, 'secrets.json'), 'utf8')) as { adminKey: string }).adminKey
    const map = (await (await fetch(`${demo!.base}/api/v1/map`, { headers: { authorization: `Bearer ${key}` } })).json()) as { bins: { deviceId: (string | null)[]; fillPct: (number | null)[] } }
    const filled = map.bins.deviceId.filter((d, k) => d?.startsWith('lw-') && typeof map.bins.fillPct[k] === 'number')
    expect(filled).toHaveLength(Number(sensors))
  })

  test('a live lift, made after the demo went live, reaches the map', async () => {
    // After the demo went live (its marker says when, on its own faked clock): not a lift of the replayed past.
    const startedAt = Date.parse((JSON.parse(readFileSync(join(demo!.dir, 'kerbside-demo.json'), 'utf8')) as { running: { startedAt: string } }).running.startedAt)
    expect(startedAt).toBeGreaterThanOrEqual(Date.parse(`${fake.replace(' ', 'T')}Z`))
    const key = (JSON.parse(readFileSync(join(demo!.dir, 'secrets.json'), 'utf8')) as { adminKey: string }).adminKey
    await expect.poll(async () => {
      const res = await fetch(`${demo!.base}/api/v1/map`, { headers: { authorization: `Bearer ${key}` } })
      const map = (await res.json()) as { lifts?: { ts: number[] } }
      return Math.max(0, ...(map.lifts?.ts ?? [])) * 1000 >= startedAt
    }, { timeout: 300_000, interval: 2_000 }).toBe(true)
  }, 600_000)
})
