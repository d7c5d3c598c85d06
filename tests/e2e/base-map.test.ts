// The map's base map in a real browser: with MAP_TILE_URL set to a tile server (here a small one on
// the loopback address, no network), its tiles are drawn under the households with the operator's
// attribution, allowed by the content security policy; with the tile server unreachable (offline),
// the registry's streets are drawn with their names instead.
// Screenshots: artifacts/e2e/map-base-tiles.png, map-base-offline.png.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createApiKey } from '../../storage/api-keys.ts'
import { startTestStack, type TestStack } from '../helpers/stack.ts'
import { seedCity } from '../helpers/seed-city.ts'
import { ensureDashboardBuilt, openBrowser, screenshot, signIn } from './browser.ts'

// A 1×1 light grey PNG: Leaflet stretches it over the tile.
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC', 'base64')
let tiles: Server
const asked: string[] = []
let t: TestStack
let key: string

beforeAll(async () => {
  ensureDashboardBuilt()
  tiles = createServer((req, res) => {
    asked.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'image/png' }).end(TILE)
  })
  await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve))
  const port = (tiles.address() as AddressInfo).port
  t = await startTestStack({ MAP_TILE_URL: `http://127.0.0.1:${port}/{z}/{x}/{y}.png`, MAP_TILE_ATTRIBUTION: 'Test tiles © Kerbside' })
  await seedCity(t.db, { households: 120, perStreet: 20, vehicles: 1, recentLifts: 0 })
  key = (await createApiKey(t.db, 'base map', 'viewer')).key
})
afterAll(async () => {
  await t?.close()
  if (tiles.listening) await new Promise((resolve) => tiles.close(resolve))
})

test('the tile server’s tiles are drawn under the map, with its attribution', async () => {
  const browser = await openBrowser()
  try {
    await signIn(browser.page, t.httpUrl, key)
    await browser.page.locator('[data-testid="city-map"][data-base-map="tiles"]').waitFor({ timeout: 15_000 })
    expect(asked.some((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u))).toBe(true)
    expect(await browser.page.locator('.leaflet-control-attribution').textContent()).toContain('Test tiles © Kerbside')
    expect(await browser.page.locator('.leaflet-tile-loaded').count()).toBeGreaterThan(0)
    await screenshot(browser.page, 'map-base-tiles')
  } finally {
    await browser.close()
  }
})

test('with the tile server unreachable, the registry’s streets are drawn with their names', async () => {
  await new Promise((resolve) => tiles.close(resolve))
  const browser = await openBrowser()
  try {
    await signIn(browser.page, t.httpUrl, key)
    const canvas = browser.page.locator('canvas.city-canvas[data-drawn]')
    await canvas.waitFor({ timeout: 15_000 })
    // Street zoom, where names are written.
    await browser.page.getByTestId('city-map').focus()
    for (let i = 0; i < 3; i++) await browser.page.keyboard.press('Equal')
    // The new zoom's tiles drawn (polled: the page's content security policy forbids waitForFunction's eval).
    const drawnLabels = async () => {
      for (let i = 0; i < 300; i++) {
        const [complete, labels] = await Promise.all([canvas.getAttribute('data-complete'), canvas.getAttribute('data-labels')])
        if (complete === 'true' && Number(labels) > 0) return Number(labels)
        await new Promise((r) => setTimeout(r, 50))
      }
      return 0
    }
    expect(await drawnLabels()).toBeGreaterThan(0)
    expect(await browser.page.getByTestId('city-map').getAttribute('data-base-map')).toBe('streets')
    await screenshot(browser.page, 'map-base-offline')
  } finally {
    await browser.close()
  }
})
